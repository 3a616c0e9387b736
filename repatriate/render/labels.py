"""Every bilingual word the renderers show: headers, vocabulary names, notices.

The one home of user-interface labels. The engine holds no prose; the law's own wording
(rule messages, findings) lives in data/ YAML.
"""

from __future__ import annotations

from ..rulebase.records import Text

NOTICE = Text(
    en=("Decision support, not legal advice: confirm every route with counsel and the authorities before acting."),
    zh="本结果仅供决策参考，不构成法律意见；实施前请与律师及主管部门逐项确认。",
)

ASSET_CLASS_ZH = {"equity": "股权类", "abs": "资产证券化类", "debt": "外债类"}
HOLDER_ZH = {
    "private": "民营企业",
    "soe": "国有企业",
    "lgfv": "地方政府融资平台",
    "listed": "上市公司",
    "fie": "外商投资企业",
    "financial": "金融机构",
}
OBJECTIVE_ZH = {"balanced": "综合", "speed": "速度", "cost": "成本", "certainty": "确定性"}
SPV_OWNER_ZH = {"group": "集团自有", "third_party": "第三方"}

# the route summary table's columns
HEAD = {
    "en": ("#", "Channels", "Location", "Weeks", "Appr.", "Docs", "Cert.", "Capacity", "Score"),
    "zh": ("#", "渠道", "地点", "周数", "审批", "文件", "确定性", "额度", "得分"),
}

# route renderers (table and Markdown)
ROUTE: dict[str, dict[str, str]] = {
    "en": {
        "title": "# Routes",
        "no_route": "No feasible route.",
        "legend": (
            "* Pareto-optimal · ≤N weeks = within stated time limits · +K? = K steps with no stated time, "
            "not counted · Appr. = acts of an authority (approvals, filings, registrations) · † unverified"
        ),
        "checklist": "Route 1 checklist",
        "documents": "Documents: ",
        "excluded_why": "Excluded and why",
        "no_exclusion": "none: every channel is open for this profile",
        "excluded_count": "{n} route(s) excluded; --explain shows why.",
        "excluded": "## Excluded",
        "sources": "## Sources",
        "unofficial_copy": " (unofficial copy)",
        "official_reprint": " (official reprint)",
        "no_link": "no link; known from: {tier}",
        "secondary_tier": "secondary source: {tier}",
        "unverified": "UNVERIFIED",
        "no_sector": "no sector given",
        "asset_line": ("Asset: {asset_class} · {sector} · {where} · {amount} {currency} · holder {holder_type}"),
        "rules_line": ("Rules as of {as_of} · rule base {digest} · optimise {optimize} · feasible routes {total}"),
    },
    "zh": {
        "title": "# 路线",
        "no_route": "没有可行路线。",
        "legend": (
            "* 帕累托最优 · ≤N 周为法定/公开时限内 · +K? 表示K个无公开时限的步骤未计入 · "
            "审批 = 主管机关办理事项（审批、备案、登记）· † 未核实"
        ),
        "checklist": "路线1 办理清单",
        "documents": "所需文件：",
        "excluded_why": "排除的路线及原因",
        "no_exclusion": "无：所有渠道对该资产均可用",
        "excluded_count": "已排除{n}条路线；使用 --explain 查看原因。",
        "excluded": "## 排除",
        "sources": "## 来源",
        "unofficial_copy": "（非官方转载）",
        "official_reprint": "（官方转载）",
        "no_link": "无链接；依据：{tier}",
        "secondary_tier": "二手资料：{tier}",
        "unverified": "未核实",
        "no_sector": "未填行业",
        "asset_line": "资产：{asset_class} · {sector} · {where} · {amount} {currency} · 持有方：{holder_type}",
        "rules_line": "规则截至 {as_of} · 规则库 {digest} · 优化目标：{optimize} · 可行路线 {total}",
    },
}
# what a source's tier says of where its text was read
TIER = {
    "en": {
        "official": "official text",
        "official_reprint": "official reprint",
        "law_firm": "law firm or legal publisher",
        "news": "news report",
        "listing": "commercial listing page",
    },
    "zh": {
        "official": "官方文本",
        "official_reprint": "官方转载",
        "law_firm": "律所或法律出版机构",
        "news": "新闻报道",
        "listing": "商业信息页面",
    },
}
STEP_HEAD = {"en": ("#", "Step", "Who / authority", "Weeks"), "zh": ("#", "步骤", "办理方 / 机关", "周数")}
EXCLUDED_HEAD = {
    "en": ["Channels", "Locations", "Reason", "Sources"],
    "zh": ["渠道", "地点", "原因", "来源"],
}

# browsing views (channels, provinces)
BROWSE: dict[str, dict[str, str]] = {
    "en": {"steps": "Steps:", "rules": "Rules:", "name": "name"},
    "zh": {"steps": "步骤：", "rules": "规则：", "name": "名称"},
}

# comparison reports
REPORT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Route comparison",
        "stop": ". ",
        "query": "Query",
        "digest": "Rule base digest",
        "as_of": "Rules as of",
        "asset_class": "Asset class",
        "sector": "Sector",
        "amount": "Amount",
        "holder_type": "Asset holder",
        "net_assets": "Net assets",
        "term_months": "Term",
        "spv_owner": "SPV owned by",
        "places": "Places compared",
        "ranking": "Ranked for",
        "across": "Best route in each place",
        "best": "Best route",
        "place": "Place",
        "feasible": "Feasible",
        "side_by_side": "Routes side by side",
        "route": "Route",
        "channels": "Channels",
        "location": "Location",
        "weeks": "Weeks (min–max)",
        "typical": "Typical weeks",
        "money": "Net yield · cost",
        "money_line": "{net:.2f}% net · {bps:.0f} bps/yr",
        "money_unknown": "no payout leg modelled",
        "weeks_short": "Weeks",
        "approvals_short": "Appr.",
        "certainty_short": "Cert.",
        "feasible_short": "Routes",
        "approvals": "Approvals",
        "cost": "Cost index",
        "certainty": "Certainty",
        "capacity": "Capacity",
        "warnings": "Key warnings",
        "checklist": "Checklist",
        "step": "Step",
        "action": "Action",
        "responsible": "Responsible",
        "authority": "Authority",
        "documents": "Documents",
        "sources": "Sources",
        "timeline": "Timeline",
        "findings": "Warnings and notes",
        "excluded": "Why the other channels were excluded",
        "reason": "Reason",
        "where": "Where",
        "no_route": "No feasible route in this place.",
        "no_exclusion": "No channel was excluded.",
        "unknown": "unknown",
        "no_cap": "no stated cap",
        "cap_unknown": "unknown",
        "none": "none",
        "open": "open question(s)",
        "unverified": "unverified",
        "months": "months",
        "per_place": "per place",
        "pre_issuance": "pre-issuance",
        "setup": "set-up (in parallel)",
        "funds": "funds",
        "legend": (
            "Typical weeks: solid shortest, pale longest; dashed “?”: no typical or stated time, "
            "assumed from the step's kind (N~); black mark and (≤N): the statutory or stated limit. "
            "Pre-issuance and set-up run in parallel; funds move after both."
        ),
        "funds_start": "funds move",
        "weeks_axis": "weeks",
        "pareto": "Pareto-optimal: no other route is better on every criterion",
        "unknown_steps": "step(s) of unknown duration not counted",
        "cost_note": "Cost index = approvals + ½ × documents (a relative figure, not money).",
        "notice_title": "Notice",
        "generated": "Generated by repatriate",
    },
    "zh": {
        "title": "路线比较",
        "stop": "。",
        "query": "查询",
        "digest": "规则库摘要",
        "as_of": "规则截至",
        "asset_class": "资产类别",
        "sector": "行业",
        "amount": "金额",
        "holder_type": "资产持有方",
        "net_assets": "净资产",
        "term_months": "期限",
        "spv_owner": "SPV持有方",
        "places": "比较地点",
        "ranking": "排序目标",
        "across": "各地最佳路线",
        "best": "最佳路线",
        "place": "地点",
        "feasible": "可行路线",
        "side_by_side": "路线对比",
        "route": "路线",
        "channels": "渠道",
        "location": "地点",
        "weeks": "周数（最短–最长）",
        "typical": "通常周数",
        "money": "净收益率 · 成本",
        "money_line": "净{net:.2f}% · 每年{bps:.0f}个基点",
        "money_unknown": "未建模派付路径",
        "weeks_short": "周数",
        "approvals_short": "审批",
        "certainty_short": "确定性",
        "feasible_short": "可行路线",
        "approvals": "审批",
        "cost": "成本指数",
        "certainty": "确定性",
        "capacity": "额度",
        "warnings": "主要提示",
        "checklist": "办理清单",
        "step": "步骤",
        "action": "事项",
        "responsible": "办理方",
        "authority": "机关",
        "documents": "文件",
        "sources": "来源",
        "timeline": "时间线",
        "findings": "提示与说明",
        "excluded": "其他渠道被排除的原因",
        "reason": "原因",
        "where": "地点",
        "no_route": "该地点没有可行路线。",
        "no_exclusion": "没有渠道被排除。",
        "unknown": "未知",
        "no_cap": "无明文上限",
        "cap_unknown": "未知",
        "none": "无",
        "open": "项待确认",
        "unverified": "未核实",
        "months": "个月",
        "per_place": "每地",
        "pre_issuance": "发行前",
        "setup": "设立（并行）",
        "funds": "资金",
        "legend": (
            "通常用时：实色为最短，浅色为最长；虚线“?”：无通常或公开时限，按步骤类型估计（N~）；"
            "黑色标记及（≤N）：法定或公开时限。发行前与设立并行，资金在两者完成后划转。"
        ),
        "funds_start": "资金划转",
        "weeks_axis": "周",
        "pareto": "帕累托最优：没有其他路线在所有指标上都更好",
        "unknown_steps": "个时限未知的步骤未计入",
        "cost_note": "成本指数 = 审批数 + ½ × 文件数（相对值，非金额）。",
        "notice_title": "声明",
        "generated": "由 repatriate 生成",
    },
}


# money and time (issue 11): the typical-weeks headline and the route-table columns
MONEY = {
    "en": {
        "typical": "{span} weeks typical",
        "assumed": " ({count} assumed)",
        "typical_col": "Typ. wk",
        "net_cost_col": "Net % / bps",
    },
    "zh": {
        "typical": "通常 {span} 周",
        "assumed": "（{count} 步按类型估计）",
        "typical_col": "通常周数",
        "net_cost_col": "净收益/基点",
    },
}


def label(table: dict[str, dict[str, str]], lang: str, key: str, **values: object) -> str:
    """One label of ``table`` in ``lang``, its named placeholders filled."""
    text = table[lang][key]
    return text.format(**values) if values else text


# the client-ready report: first page, table of contents, citations (issue 13)
CLIENT: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Summary and recommendation",
        "contents": "Contents",
        "prepared_for": "Prepared for",
        "prepared_by": "Prepared by",
        "date": "Date",
        "details": "Details",
        "recommend": "Recommended route: {channels}, {location}.",
        "time_known": "Typical time: {weeks} weeks by the stated time limits.",
        "time_typical": "Typical time: {typical} weeks (statutory limits: {weeks} weeks).",
        "time_typical_partly": (
            "Typical time: {typical} weeks (statutory limits: {weeks} weeks, with {n} step(s) untimed)."
        ),
        "time_partly": (
            "Typical time: unknown — the steps with a stated time limit take {weeks} weeks; "
            "{n} step(s) have no stated time."
        ),
        "capacity_line": "Capacity: {capacity}.",
        "risk_line": "Key risk: {risk}",
        "no_risk": "Key risk: none identified by the rule base; see the detail.",
        "no_route_line": "No feasible route in this place. Main reason: {reason}",
        "open_list": "Open questions",
        "cited_as": "Cited as",
        "issuer": "issued by",
        "weeks_word": "weeks",
        "pareto_badge": "Pareto",
        "done": "done",
    },
    "zh": {
        "summary": "摘要与建议",
        "contents": "目录",
        "prepared_for": "委托方",
        "prepared_by": "编制方",
        "date": "日期",
        "details": "详细内容",
        "recommend": "建议路线：{channels}，{location}。",
        "time_known": "预计时间：按法定时限约{weeks}周。",
        "time_typical": "通常用时：{typical}周（法定时限：{weeks}周）。",
        "time_typical_partly": "通常用时：{typical}周（法定时限：{weeks}周，另有{n}个步骤无公开时限）。",
        "time_partly": "预计时间：未知——有法定时限的步骤需{weeks}周；另有{n}个步骤无公开时限。",
        "capacity_line": "额度：{capacity}。",
        "risk_line": "主要风险：{risk}",
        "no_risk": "主要风险：规则库未发现；详见下文。",
        "no_route_line": "该地点没有可行路线。主要原因：{reason}",
        "open_list": "待确认事项",
        "cited_as": "引用为",
        "issuer": "发布机关",
        "weeks_word": "周",
        "pareto_badge": "帕累托最优",
        "done": "已完成",
    },
}


# command-line errors in Chinese (--lang zh / REPATRIATE_LANG=zh): (pattern on the English line,
# Chinese template). Values, flags and accepted lists stay as typed; unmatched lines stay English.
ERRORS_ZH: tuple[tuple[str, str], ...] = (
    (r"^(--[\w-]+): (.*)$", "{1}：{2}"),
    (r"^unknown ([\w ]+?) ('.*?'|\S+) \(accepted: (.*)\)$", "未知的{1} {2}（可选：{3}）"),
    (r"^missing place \(required: at least one province or city\)$", "缺少地点（至少需要一个省份或城市）"),
    (r"^invalid date (.*) \(accepted: YYYY-MM-DD\)$", "日期无效：{1}（格式：YYYY-MM-DD）"),
    (r"^(.*) exists \(use --force to overwrite it\)$", "{1} 已存在（使用 --force 覆盖）"),
    (r"^(--?[\w-]+|[\w ]+?) (\S+) must be (.*)$", "{1} {2} 不符合要求：须为 {3}"),
    (r"^No such option:? (.*?)\.?$", "没有该选项：{1}"),
    (r"^Missing option (.*?)\.?$", "缺少必填选项：{1}"),
    (r"^Missing argument (.*?)\.?$", "缺少参数：{1}"),
    (r"^Invalid value for (.*?): (.*)$", "{1} 的值无效：{2}"),
    (r"^No such command (.*?)\.?$", "没有该命令：{1}"),
    # what follows a flag in the CLI's "--flag: message" lines
    (r"^(\S+) must be (.*)$", "{1} 不符合要求：须为 {2}"),
    (r"^no such option$", "没有该选项"),
    (r"^missing \(required\)$", "缺少必填选项"),
)
# words inside error lines
ERROR_WORDS_ZH = {
    "province": "省份",
    "city": "城市",
    "language": "语言",
    "format": "格式",
    "holder type": "持有方类型",
    "asset class": "资产类别",
    "sector": "行业",
    "currency": "币种",
    "objective": "优化目标",
    "amount": "金额",
    "top": "--top",
    "spv owner": "SPV持有方",
    "distribution": "分销方式",
    "must be positive": "须为正数",
    "1 or more": "1 或以上",
}


def error_zh(line: str) -> str:
    """An error line in Chinese where a pattern of ``ERRORS_ZH`` knows it; else unchanged."""
    import re

    for pattern, template in ERRORS_ZH:
        m = re.match(pattern, line)
        if m:
            parts = [line, *m.groups()]
            if pattern.startswith("^(--[\\w-]+): "):  # a flag prefix: translate what follows it
                parts[2] = error_zh(parts[2])
            words = [ERROR_WORDS_ZH.get(p, p) if isinstance(p, str) else p for p in parts]
            return template.format(*words)
    return line


# `repatriate data coverage` headers
COVERAGE_HEAD = {
    "en": (
        "code",
        "province",
        "local rules",
        "QFLP cities ({day})",
        "sourced",
        "unsourced",
        "unverified",
        "by tier",
        "all",
        "— (national rules)",
    ),
    "zh": (
        "代码",
        "省份",
        "地方规则",
        "QFLP试点城市（{day}）",
        "有来源",
        "无来源",
        "未核实",
        "按来源等级",
        "合计",
        "—（适用全国规则）",
    ),
}
# the dated regimes under data coverage, and the gazetteer line
REGIME_HEAD = {
    "en": ("regimes", "text", "from", "to", "in force {day}", "yes", "no"),
    "zh": ("制度", "文件", "起", "止", "{day}有效", "是", "否"),
}
GAZETTEER_LINE = {
    "en": "places: {prefecture} prefecture-level, {county_city} county-level cities ({cite}, as at {as_at})",
    "zh": "地名：地级行政区{prefecture}个，县级市{county_city}个（{cite}，截至{as_at}）",
}
# `repatriate allocate` (issue 12): title, summary line, leg table and section headers
# the allocation of `repatriate allocate` (issue 12): headings, the reasons a leg stops, warnings
ALLOCATE: dict[str, dict[str, str]] = {
    "en": {
        "title": "Allocation across channels",
        "colon": ": ",
        "semicolon": "; ",
        "section": "Allocation",
        "summary": "{placed} of {amount} ({share:.1%}) placed in {legs} leg(s); typical time {weeks} weeks "
        "with the legs in parallel.",
        "unplaced": "{unplaced} cannot be placed: {binding}.",
        "total": "Money cost: {cost} a year ({bps:.1f} bps a year on the amount placed).",
        "no_cost": "Money cost not computed: give the yield to holders (--yield) to rank legs by money.",
        "paperwork": "Legs ranked by the paperwork index (no --yield given).",
        "query": "Query",
        "amount": "Amount",
        "place": "Asset in",
        "sector": "Sector",
        "max_channels": "At most",
        "legs_n": "{n} legs",
        "by": "Deadline",
        "market_cap": "Listed market value",
        "net_assets": "Net assets",
        "bar": "Share of the amount by leg",
        "unplaced_seg": "unplaced",
        "legs": "Legs",
        "head_leg": "Leg",
        "head_channels": "Channels",
        "head_location": "Location",
        "head_amount": "Amount",
        "head_share": "Share",
        "head_used": "Capacity used",
        "head_binds": "Stops at",
        "head_cost": "Cost",
        "head_weeks": "Typical weeks",
        "bps": "{v:g} bps/yr",
        "index": "index {v:g}",
        "cost_unknown": " (no payout leg modelled)",
        "past_by": "{w:g} wk past the deadline",
        "binding": "What binds",
        "none": "nothing: the whole amount is placed",
        "stops": "Why the cheaper legs stop where they stop",
        "excluded": "Routes the split cannot use",
        "groups": "Shared capacities",
        "load": "{load:.1%} used",
        "timeline": "Timeline (legs run in parallel)",
        "weeks_range": "{lo:g}–{hi:g} weeks",
        "weeks_n": "{n:g} weeks",
        "checklist": "One checklist (shared steps once)",
        "for_legs": "leg {legs}",
        "warnings": "Warnings",
        "sources": "Sources",
        "digest": "Rule base digest",
        "as_of": "Rules as of",
        "solver": "Solved as a mixed-integer program (HiGHS): first the most that can be placed, then the "
        "least cost of placing it; {n} candidate legs.",
        "approx": "Checklist taken at a nominal amount for this leg (the route alone cannot carry the whole "
        "amount).",
        "capacity": "its capacity",
        "max_channels_why": "the limit of {n} legs",
        "set_up_cost": "another leg's set-up costs more than it saves",
        "not_needed": "not needed",
        "capacity_unknown": "its capacity cannot be computed from the profile",
        "eligibility_unknown": "its eligibility is not settled by the profile",
        "no_route": "no route can carry any of it",
        "w_capacity_unknown": "{channels}: the capacity cannot be computed from the profile (give the figures "
        "its formula reads, such as the net assets); it is not used in the split.",
        "w_eligibility_unknown": "{channels}: open only if conditions the profile does not settle are met "
        "({rules}); money is not planned through it.",
        "w_cap_needs_input": "{channels}: {cap} needs {inputs}; the leg is not sized, so not used.",
        "w_minimum_other_currency": "{channels}: {minimum} is {figure}, in another currency than the amount; "
        "it is not applied (no exchange rates): check it at the day's rate.",
        "in_listed_market_cap": "the listed holder's market value (--listed-market-cap)",
        "in_net_assets": "the holder's net assets (--net-assets)",
        "in_foreign_share_max": "a foreign-share figure, which the negative list does not state for this sector",
    },
    "zh": {
        "title": "跨渠道资金分配方案",
        "colon": "：",
        "semicolon": "；",
        "section": "分配",
        "summary": "已分配 {placed}，占 {amount} 的 {share:.1%}，共 {legs} 条路径；各路径并行，典型用时 {weeks} 周。",
        "unplaced": "{unplaced} 无法分配：{binding}。",
        "total": "资金成本：每年 {cost}（按已分配金额计每年 {bps:.1f} 个基点）。",
        "no_cost": "未计算资金成本：请提供持有人收益率（--yield）以按资金成本排序。",
        "paperwork": "各路径按手续复杂度指数排序（未提供 --yield）。",
        "query": "查询条件",
        "amount": "金额",
        "place": "资产所在地",
        "sector": "行业",
        "max_channels": "路径上限",
        "legs_n": "{n} 条",
        "by": "截止日期",
        "market_cap": "上市公司市值",
        "net_assets": "净资产",
        "bar": "各路径占金额比例",
        "unplaced_seg": "未分配",
        "legs": "路径",
        "head_leg": "路径",
        "head_channels": "渠道",
        "head_location": "地点",
        "head_amount": "金额",
        "head_share": "占比",
        "head_used": "额度占用",
        "head_binds": "止于",
        "head_cost": "成本",
        "head_weeks": "典型周数",
        "bps": "每年 {v:g} 个基点",
        "index": "指数 {v:g}",
        "cost_unknown": "（未建模派息路径）",
        "past_by": "超过截止日期 {w:g} 周",
        "binding": "约束条件",
        "none": "无：全部金额已分配",
        "stops": "较低成本路径为何止步",
        "excluded": "不可用于分配的路径",
        "groups": "共用额度",
        "load": "已占用 {load:.1%}",
        "timeline": "时间线（各路径并行）",
        "weeks_range": "{lo:g}–{hi:g} 周",
        "weeks_n": "{n:g} 周",
        "checklist": "合并清单（共用步骤只列一次）",
        "for_legs": "路径 {legs}",
        "warnings": "提示",
        "sources": "资料来源",
        "digest": "规则库摘要",
        "as_of": "规则日期",
        "solver": "按混合整数规划求解（HiGHS）：先求可分配的最大金额，再求该金额下的最低成本；候选路径 {n} 条。",
        "approx": "该路径单独无法承载全部金额，其清单按名义金额列出。",
        "capacity": "其可承载额度",
        "max_channels_why": "路径数上限 {n} 条",
        "set_up_cost": "增设路径的设立成本高于其节省",
        "not_needed": "无需使用",
        "capacity_unknown": "无法根据所给信息计算其可承载额度",
        "eligibility_unknown": "所给信息不足以判断其适用条件",
        "no_route": "没有可承载任何金额的路径",
        "w_capacity_unknown": "{channels}：无法根据所给信息计算可承载额度（请提供其公式所需数据，如净资产）；"
        "分配中不使用该路径。",
        "w_eligibility_unknown": "{channels}：仅在满足所给信息未能确认的条件时可用（{rules}）；分配中不使用该路径。",
        "w_cap_needs_input": "{channels}：{cap}需要{inputs}；该路径无法确定额度，故不使用。",
        "w_minimum_other_currency": "{channels}：{minimum}为{figure}，与金额币种不同，未予适用（不做汇率换算），"
        "请按当日汇率核对。",
        "in_listed_market_cap": "上市公司市值（--listed-market-cap）",
        "in_net_assets": "资产持有方净资产（--net-assets）",
        "in_foreign_share_max": "外资股比上限数字（负面清单未就该行业载明）",
    },
}
