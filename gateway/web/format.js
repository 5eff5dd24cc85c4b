// Chinese labels and number formats. The API speaks English codes and exact decimal strings;
// the page shows labels and rounded numbers (display only: every comparison is the gateway's).

export const STATUS_LABELS = {
  achieved: "达成",
  on_track: "正常",
  at_risk: "有风险",
  behind: "滞后",
  no_data: "无数据",
  not_started: "未开始",
};
// In the order a reader scans for trouble: the worst first.
export const STATUS_ORDER = ["behind", "at_risk", "on_track", "achieved", "no_data", "not_started"];

export const TOPIC_LABELS = {
  "zhichan.targets": "规划",
  "zhichan.enforcement": "执法",
  "zhichan.financing": "金融",
  "zhichan.agencies": "服务机构",
  "zhichan.alerts": "提醒",
};

export const ROLE_LABELS = {
  admin: "管理员",
  officer: "业务人员",
  department: "责任部门",
  auditor: "审计",
  public: "公众",
};

export const PLAN_STATUS_LABELS = { draft: "草案", active: "执行中", closed: "已结束" };

// Fallbacks for the labels the targets service serves at /api/meta/targets/enums.
export const DEFAULT_ENUMS = {
  category: {},
  measure: { stock: "存量", cumulative: "累计", annual: "年度", annual_average: "年均", rate: "比率" },
  direction: { at_least: "不低于", at_most: "不高于" },
  nature: { expected: "预期性", binding: "约束性" },
  task_status: { planned: "未开始", in_progress: "推进中", done: "已完成", delayed: "滞后" },
};

const AGGREGATE_LABELS = {
  agency: "服务机构",
  annual_report: "年度报告",
  complaint: "投诉",
  credit_entry: "信用记录",
  evaluation: "评价",
  inspection: "检查",
  inspection_draw: "双随机抽取",
  practitioner: "从业人员",
  campaign: "专项行动",
  case: "案件",
  region_policy: "地区办案规则",
  watchlist_entry: "重点监管名单",
  plan: "规划",
  progress_report: "进展报告",
  region: "地区",
  pledge: "质押",
  transaction: "许可转让",
  insurance_policy: "知识产权保险",
  matchmaking_event: "银企对接活动",
};

const VERB_LABELS = {
  filed: "登记",
  approved: "审核通过",
  updated: "更新",
  suspended: "暂停",
  reinstated: "恢复",
  deregistered: "注销",
  brand_level_changed: "品牌等级变更",
  submitted: "提交",
  superseded: "更正",
  received: "受理",
  resolved: "办结",
  recorded: "登记",
  concluded: "完成",
  scheduled: "安排",
  drawn: "抽取",
  joined: "加入",
  left: "离开",
  created: "创建",
  closed: "结案",
  decided: "作出决定",
  extended: "延期",
  investigation_started: "开始调查",
  resumed: "恢复办理",
  transferred: "移送",
  withdrawn: "撤回",
  deadline_rules_changed: "办案时限调整",
  watch_window_changed: "监管期调整",
  entered: "列入",
  activated: "启动执行",
  imported: "导入",
  indicator_changed: "指标调整",
  task_changed: "任务更新",
  defined: "定义",
  registered: "登记",
  released: "解押",
  defaulted: "违约",
  disposed: "处置",
  risk_compensation_claimed: "风险补偿申领",
  subsidy_granted: "贴息发放",
};

// Where one verb reads differently for one kind of record.
const EVENT_LABELS = {
  "case.filed": "立案",
  "agency.filed": "备案",
  "complaint.resolved": "处理完毕",
  "plan.closed": "结束",
  "campaign.created": "部署",
};

// "zhichan.enforcement.case.closed.v1" → "案件 · 结案"
export function eventLabel(type) {
  const parts = String(type).split(".");
  if (parts.length < 5) return type;
  const [, , aggregate, verb] = parts;
  const action = EVENT_LABELS[`${aggregate}.${verb}`] ?? VERB_LABELS[verb] ?? verb;
  return `${AGGREGATE_LABELS[aggregate] ?? aggregate} · ${action}`;
}

// Column heads for the records behind a number (drill-down), whatever service they come from.
export const FIELD_LABELS = {
  name: "名称",
  title: "标题",
  uscc: "统一社会信用代码",
  case_number: "案号",
  region: "地区",
  address: "地址",
  status: "状态",
  type: "类型",
  procedure: "程序",
  origin: "来源",
  filed: "立案日期",
  filed_on: "备案日期",
  filed_date: "立案日期",
  due: "期限",
  due_date: "办结期限",
  closed: "结案日期",
  registered: "登记日期",
  recorded: "登记日期",
  as_of: "截至日期",
  value: "数值",
  unit: "单位",
  amount: "金额",
  note: "说明",
  department: "部门",
  reporter: "填报人",
  offline: "线下服务",
  in_cluster: "集聚区",
  brand_level: "品牌等级",
  evidence_url: "证明材料",
  statistic: "统计指标",
  statistic_name: "统计指标",
  period: "期间",
  source: "发布来源",
  published_on: "发布日期",
  revised_by: "修订",
};
// Fields that identify or version a record but tell a reader nothing.
export const HIDDEN_FIELDS = new Set(["id", "version", "created_at", "updated_at", "supersedes", "superseded_by", "plan", "indicator"]);

const numberFormats = new Map();

function numberFormat(digits) {
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat("zh-CN", { maximumFractionDigits: digits }));
  }
  return numberFormats.get(digits);
}

// "484.7945205479452054794520548" → "484.79"; null → "—".
export function number(value, digits = 2) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? numberFormat(digits).format(n) : String(value);
}

export function withUnit(value, unit) {
  if (value === null || value === undefined) return "—";
  return unit === "%" ? `${number(value, 1)}%` : `${number(value)} ${unit}`;
}

// A figure that may be a range ("每年 1—2 场"): the minimum counts, the maximum is shown beside it.
export function rangeWithUnit(value, max, unit) {
  if (max === null || max === undefined) return withUnit(value, unit);
  return unit === "%" ? `${number(value, 1)}—${number(max, 1)}%` : `${number(value)}—${number(max)} ${unit}`;
}

export const YEAR_VERDICT_LABELS = { met: "达标", missed: "未达标", in_progress: "进行中", no_data: "无数据" };

export function percent(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return `${number(Number(ratio) * 100, 0)}%`;
}

const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

export function dateTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

// Today in Asia/Shanghai, as the gateway counts business dates.
export function todayInShanghai() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}
