// The dashboard's views. Each loads its answers and returns {freshness, node}: node is null when
// every answer was a 304 and the view is already on screen (nothing to redraw).

import { download, getJSON, postAction, query } from "./api.js";
import { trendChart } from "./chart.js";
import { h } from "./dom.js";
import {
  dateTime,
  eventLabel,
  FIELD_LABELS,
  HIDDEN_FIELDS,
  number,
  percent,
  PLAN_STATUS_LABELS,
  rangeWithUnit,
  STATUS_LABELS,
  STATUS_ORDER,
  withUnit,
  YEAR_VERDICT_LABELS,
} from "./format.js";

const enc = encodeURIComponent;

// Loads every url; {bodies, changed} where changed says whether any answer moved.
async function load(ctx, urls) {
  const answers = await Promise.all(urls.map((url) => getJSON(url, ctx.user)));
  return { bodies: answers.map((a) => a.body), changed: answers.some((a) => a.changed) };
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}`, "data-status": status }, STATUS_LABELS[status] ?? status);
}

function statusCounts(counts, id) {
  return h(
    "ul",
    { class: "status-counts", id },
    STATUS_ORDER.filter((s) => counts[s] > 0).map((s) =>
      h("li", { class: `status status-${s}`, "data-count": s }, `${STATUS_LABELS[s]} ${counts[s]}`),
    ),
  );
}

// One bar for a set of indicators: each status's share, worst first.
function statusStrip(counts) {
  const total = STATUS_ORDER.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const strip = h("div", { class: "strip", role: "img", "aria-label": "指标状态分布" });
  for (const status of STATUS_ORDER) {
    if (!counts[status]) continue;
    const part = h("span", { class: `status-${status}`, title: `${STATUS_LABELS[status]} ${counts[status]}` });
    part.style.width = `${(counts[status] / total) * 100}%`;
    strip.append(part);
  }
  return strip;
}

export function signInPrompt(reason = "此内容需要登录后查看。") {
  return h(
    "div",
    { class: "signin-prompt", id: "signin-prompt" },
    h("p", {}, reason),
    h("a", { class: "button", href: "/signin" }, "登录"),
  );
}

function period(plan) {
  return `${plan.start} 至 ${plan.end}`;
}

function planLink(plan) {
  return h("a", { href: `#/plan/${enc(plan.key)}`, "data-plan": plan.key }, plan.title);
}

// --- plans -------------------------------------------------------------------------------------

export async function plansView(ctx, fresh) {
  const { bodies, changed } = await load(ctx, [`/api/progress/plans${query({ region: ctx.region })}`]);
  const [answer] = bodies;
  if (!changed && !fresh) return { freshness: answer.freshness, node: null };
  const title = ctx.region ? `${ctx.regionName(ctx.region)}的规划` : "已发布的规划";
  const node = h(
    "section",
    { id: "plans" },
    h("h1", {}, title),
    answer.items.length
      ? h(
          "table",
          { class: "table", id: "plan-list" },
          h("thead", {}, h("tr", {}, h("th", {}, "规划"), h("th", {}, "地区"), h("th", {}, "期间"), h("th", {}, "状态"))),
          h(
            "tbody",
            {},
            answer.items.map((plan) =>
              h(
                "tr",
                { "data-plan-row": plan.key },
                h("td", {}, planLink(plan)),
                h("td", {}, plan.region_name ?? plan.region),
                h("td", {}, period(plan)),
                h("td", {}, PLAN_STATUS_LABELS[plan.status] ?? plan.status),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, "这里还没有规划。"),
    ctx.user ? null : signInPrompt("登录后可查看草案、区域概览和评分卡。"),
  );
  return { freshness: answer.freshness, node };
}

// --- one plan ----------------------------------------------------------------------------------

function progressBar(indicator) {
  const bar = h("div", { class: "bar", "data-progress": indicator.progress ?? "" });
  if (indicator.progress !== null) {
    const fill = h("div", { class: `fill status-${indicator.status}` });
    fill.style.width = `${Number(indicator.progress) * 100}%`;
    bar.append(fill);
  }
  if (indicator.expected_progress !== null) {
    const mark = h("div", { class: "expected-mark", title: `应完成 ${percent(indicator.expected_progress)}` });
    mark.style.left = `${Number(indicator.expected_progress) * 100}%`;
    bar.append(mark);
  }
  return h(
    "div",
    { class: "progress" },
    bar,
    h("small", {}, `已完成 ${percent(indicator.progress)} · 应完成 ${percent(indicator.expected_progress)}`),
  );
}

function forecastCell(indicator) {
  if (indicator.forecast === null) return h("td", { class: "num forecast" }, "—");
  const meets = indicator.forecast_meets_target;
  return h(
    "td",
    { class: `num forecast ${meets ? "meets" : "misses"}`, "data-meets": String(meets) },
    withUnit(indicator.forecast, indicator.unit),
    h("small", {}, meets ? "可达目标" : "难达目标"),
  );
}

function indicatorRow(ctx, indicator, open) {
  const enums = ctx.enums;
  const toggle = () => ctx.toggleChart(indicator.key);
  return h(
    "tr",
    {
      class: `indicator${open ? " open" : ""}`,
      "data-indicator": indicator.key,
      "data-status": indicator.status,
      tabindex: 0,
      "aria-expanded": String(open),
      title: "点击查看走势",
      onclick: toggle,
      onkeydown: (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle();
        }
      },
    },
    h(
      "td",
      { class: "name" },
      h("span", {}, indicator.name),
      indicator.nature === "binding" ? h("span", { class: "tag binding" }, enums.nature.binding ?? "约束性") : null,
      h(
        "small",
        {},
        [enums.category[indicator.category], enums.measure[indicator.measure]].filter(Boolean).join(" · "),
      ),
    ),
    h("td", {}, statusBadge(indicator.status)),
    h("td", {}, progressBar(indicator)),
    h(
      "td",
      { class: "num actual" },
      withUnit(indicator.actual, indicator.unit),
      indicator.actual_parts
        ? h(
            "small",
            { class: "parts", title: "分子 / 分母" },
            `${indicator.actual_parts.numerator} / ${indicator.actual_parts.denominator} ${indicator.actual_parts.unit}`,
          )
        : null,
      indicator.actual_on ? h("small", {}, `截至 ${indicator.actual_on}`) : null,
      indicator.pending_reports ? h("small", { class: "pending" }, `待审核 ${indicator.pending_reports}`) : null,
    ),
    h(
      "td",
      { class: "num milestone" },
      rangeWithUnit(indicator.milestone_this_year, indicator.milestone_this_year_max, indicator.unit),
    ),
    h("td", { class: "num expected" }, withUnit(indicator.expected, indicator.unit)),
    h(
      "td",
      { class: "num target" },
      rangeWithUnit(indicator.target, indicator.target_max, indicator.unit),
      h("small", {}, enums.direction[indicator.direction] ?? indicator.direction),
    ),
    forecastCell(indicator),
  );
}

function drilldownLinks(ctx, indicator) {
  const target = h("div", { class: "drilldown-result" });
  const buttons = indicator.drilldown.map((url, i) =>
    h(
      "button",
      {
        type: "button",
        class: "link",
        "data-drilldown": url,
        onclick: async (event) => {
          event.stopPropagation();
          target.replaceChildren(h("p", { class: "loading" }, "加载中…"));
          target.replaceChildren(await drilldownTable(ctx, url));
        },
      },
      indicator.drilldown.length > 1 ? `明细 ${i + 1}` : "查看明细",
    ),
  );
  return h("div", { class: "drilldown" }, h("span", {}, "数据来源:"), buttons, target);
}

const DRILLDOWN_ROWS = 20;
// A statistic's releases: what was published, when, and whether a later release revised it (数据修订).
const STATISTIC_COLUMNS = ["region", "statistic_name", "period", "value", "unit", "source", "published_on", "revised_by"];

// The records behind a number, as a plain table of their simple fields.
async function drilldownTable(ctx, url) {
  if (!ctx.user) return signInPrompt("明细记录需要登录后查看。");
  try {
    const { body } = await getJSON(url, ctx.user);
    const items = Array.isArray(body.items) ? body.items : [body];
    if (!items.length) return h("p", { class: "empty" }, "没有记录。");
    const columns = url.startsWith("/api/statistics")
      ? STATISTIC_COLUMNS
      : Object.keys(items[0])
          .filter((k) => !HIDDEN_FIELDS.has(k) && (items[0][k] === null || typeof items[0][k] !== "object"))
          .slice(0, 7);
    const cell = (field, value) => {
      if (typeof value === "boolean") return value ? "是" : "否";
      if (field === "region") return ctx.regionName(value);
      if (field === "revised_by") return value ? "已被修订" : "现行";
      return value ?? "";
    };
    return h(
      "div",
      {},
      h(
        "table",
        { class: "table compact", "data-drilldown-table": url },
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, FIELD_LABELS[c] ?? c)))),
        h(
          "tbody",
          {},
          items
            .slice(0, DRILLDOWN_ROWS)
            .map((item) => h("tr", {}, columns.map((c) => h("td", {}, cell(c, item[c]))))),
        ),
      ),
      body.next_cursor || items.length > DRILLDOWN_ROWS ? h("small", {}, `仅显示前 ${DRILLDOWN_ROWS} 条`) : null,
    );
  } catch (error) {
    return h("p", { class: "error" }, `无法加载明细:${error.message}`);
  }
}

function detailRow(ctx, indicator, series) {
  return h(
    "tr",
    { class: "detail", "data-detail-for": indicator.key },
    h(
      "td",
      { colspan: 8 },
      h("div", { class: "chart" }, series ? trendChart(series, indicator) : h("p", { class: "error" }, "走势暂不可用")),
      h("p", { class: "explanation" }, indicator.explanation),
      indicator.years.length ? yearsTable(indicator) : null,
      indicator.measure === "annual_average" && indicator.source === "reported"
        ? h("p", { class: "explanation" }, "填报口径:计划开始以来的年均值(不是累计值),系统不再折算。")
        : null,
      indicator.responsible.length ? h("p", {}, `责任单位:${indicator.responsible.join("、")}`) : null,
      indicator.drilldown.length ? drilldownLinks(ctx, indicator) : null,
    ),
  );
}

// An annual indicator's plan years, each judged on its own (a year missed is not made up later).
function yearsTable(indicator) {
  const unit = indicator.unit;
  return h(
    "table",
    { class: "table compact years", "data-years-for": indicator.key },
    h(
      "thead",
      {},
      h("tr", {}, ["年度", "全年目标", "计划内应达", "实际", "判定"].map((label) => h("th", {}, label))),
    ),
    h(
      "tbody",
      {},
      indicator.years.map((year) =>
        h(
          "tr",
          { "data-year": year.year, "data-verdict": year.verdict },
          h("td", {}, `${year.year}年`, h("small", {}, ` ${year.start} 至 ${year.end}`)),
          h("td", { class: "num" }, rangeWithUnit(year.figure, year.figure_max, unit)),
          h("td", { class: "num" }, withUnit(year.due, unit)),
          h("td", { class: "num" }, withUnit(year.actual, unit)),
          h("td", {}, h("span", { class: `verdict verdict-${year.verdict}` }, YEAR_VERDICT_LABELS[year.verdict])),
        ),
      ),
    ),
  );
}

function taskItem(ctx, task, overdue) {
  return h(
    "li",
    { class: overdue ? "task overdue" : "task", "data-task": task.key, "data-task-status": task.status },
    h("span", { class: "title" }, task.title),
    h(
      "small",
      {},
      [
        ctx.enums.task_status[task.status] ?? task.status,
        task.due ? `${overdue ? "逾期 · " : ""}截止 ${task.due}` : null,
        task.responsible?.length ? task.responsible.join("、") : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
}

function tasksSection(ctx, tasks, allTasks) {
  const overdueKeys = new Set(tasks.overdue.map((t) => t.key));
  return h(
    "section",
    { id: "tasks" },
    h("h2", {}, `重点任务(共 ${tasks.total} 项)`),
    h(
      "ul",
      { class: "task-counts", id: "task-counts" },
      Object.entries(tasks.counts).map(([status, count]) =>
        h("li", { "data-task-count": status }, `${ctx.enums.task_status[status] ?? status} ${count}`),
      ),
      h("li", { class: "overdue", "data-task-count": "overdue" }, `逾期 ${tasks.overdue.length}`),
    ),
    tasks.overdue.length
      ? h("ul", { class: "tasks", id: "overdue-tasks" }, tasks.overdue.map((t) => taskItem(ctx, t, true)))
      : h("p", { class: "empty" }, "没有逾期任务。"),
    allTasks
      ? h(
          "details",
          { id: "all-tasks" },
          h("summary", {}, "全部任务"),
          h(
            "ul",
            { class: "tasks" },
            allTasks.map((t) => taskItem(ctx, t, overdueKeys.has(t.key))),
          ),
        )
      : null,
  );
}

async function allTasksOf(ctx, key) {
  try {
    const { body } = await getJSON(`/api/plans/${enc(key)}/tasks?limit=500`, ctx.user);
    return body.items;
  } catch {
    return null; // the overdue ones still show, from the progress view
  }
}

export async function seriesOf(ctx, planKey, indicatorKey) {
  const url = `/api/progress/plans/${enc(planKey)}/indicators/${enc(indicatorKey)}/series${query({
    interval: "month",
    as_of: ctx.asOf,
  })}`;
  try {
    return (await getJSON(url, ctx.user)).body;
  } catch {
    return null;
  }
}

export async function planView(ctx, fresh, key) {
  const url = `/api/progress/plans/${enc(key)}${query({ as_of: ctx.asOf })}`;
  const { bodies, changed } = await load(ctx, [url]);
  const [view] = bodies;
  if (!changed && !fresh) return { freshness: view.freshness, node: null };
  const open = view.indicators.filter((i) => ctx.openCharts.has(i.key));
  const [allTasks, ...series] = await Promise.all([
    allTasksOf(ctx, key),
    ...open.map((i) => seriesOf(ctx, key, i.key)),
  ]);
  const seriesByKey = new Map(open.map((i, n) => [i.key, series[n]]));
  const plan = view.plan;
  const exportUrl = `/api/progress/plans/${enc(key)}${query({ format: "xlsx", as_of: view.as_of })}`;
  const node = h(
    "section",
    { id: "plan", "data-plan": plan.key },
    h(
      "div",
      { class: "plan-head" },
      h(
        "div",
        {},
        h("h1", {}, plan.title),
        h(
          "p",
          { class: "meta" },
          [
            plan.region_name ?? plan.region,
            plan.issued_by,
            period(plan),
            PLAN_STATUS_LABELS[plan.status] ?? plan.status,
            `数据截至 ${view.as_of}`,
          ]
            .filter(Boolean)
            .join(" · "),
        ),
      ),
      h(
        "a",
        {
          class: "button",
          id: "export-xlsx",
          href: exportUrl,
          onclick: (event) => {
            event.preventDefault();
            download(exportUrl, ctx.user, `${plan.key}-${view.as_of}.xlsx`).catch((error) =>
              ctx.notify(`导出失败:${error.message}`),
            );
          },
        },
        "导出 Excel",
      ),
      ctx.user && plan.status === "active"
        ? h("a", { class: "button", id: "plan-rounds", href: `#/rounds/${enc(plan.key)}` }, "填报与审核")
        : null,
    ),
    statusStrip(view.status_counts),
    statusCounts(view.status_counts, "status-counts"),
    h(
      "table",
      { class: "table indicators", id: "indicators" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["指标", "状态", "进度(竖线为应完成)", "实际值", "本年里程碑", "期望值", "目标值", "期末预测"].map((t) =>
            h("th", {}, t),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        view.indicators.map((indicator) => {
          const isOpen = seriesByKey.has(indicator.key);
          return [
            indicatorRow(ctx, indicator, isOpen),
            isOpen ? detailRow(ctx, indicator, seriesByKey.get(indicator.key)) : null,
          ];
        }),
      ),
    ),
    tasksSection(ctx, view.tasks, allTasks),
  );
  return { freshness: view.freshness, node, plan: view };
}

function chartRows(key) {
  const selector = CSS.escape(key);
  return {
    row: document.querySelector(`tr.indicator[data-indicator="${selector}"]`),
    detail: document.querySelector(`tr.detail[data-detail-for="${selector}"]`),
  };
}

function markOpen(row, open) {
  row.classList.toggle("open", open);
  row.setAttribute("aria-expanded", String(open));
}

// Opens an indicator's chart in place, below its row, without redrawing the view.
export async function openChart(ctx, planView, key) {
  ctx.openCharts.add(key);
  const { row, detail } = chartRows(key);
  if (!row || detail) return;
  markOpen(row, true);
  const indicator = planView.indicators.find((i) => i.key === key);
  const series = await seriesOf(ctx, planView.plan.key, key);
  const now = chartRows(key);
  if (ctx.openCharts.has(key) && now.row === row && !now.detail) row.after(detailRow(ctx, indicator, series));
}

export function toggleChart(ctx, planView, key) {
  const { row, detail } = chartRows(key);
  if (row && (detail || row.classList.contains("open"))) {
    detail?.remove();
    ctx.openCharts.delete(key);
    markOpen(row, false);
    return Promise.resolve();
  }
  return openChart(ctx, planView, key);
}

// --- region overview ---------------------------------------------------------------------------

function pledgeAmount(amount) {
  if (Number(amount.yi_yuan) >= 1) return `${number(amount.yi_yuan)} 亿元`;
  return `${number(amount.wan_yuan)} 万元`;
}

function headlineCards(headline) {
  const cards = [
    ["open_cases", "在办案件", `${number(headline.open_cases, 0)} 件`],
    ["overdue_open_cases", "超期未结案件", `${number(headline.overdue_open_cases, 0)} 件`],
    [
      "on_time_closure_rate_this_year",
      "本年按期结案率",
      headline.on_time_closure_rate_this_year === null ? "—" : `${number(headline.on_time_closure_rate_this_year, 1)}%`,
    ],
    ["pledge_amount_this_year", "本年质押融资", pledgeAmount(headline.pledge_amount_this_year)],
    ["pledge_count_this_year", "本年质押笔数", `${number(headline.pledge_count_this_year, 0)} 笔`],
    ["active_agencies", "在营服务机构", `${number(headline.active_agencies, 0)} 家`],
    ["open_complaints", "待处理投诉", `${number(headline.open_complaints, 0)} 件`],
  ];
  return h(
    "ul",
    { class: "cards", id: "headline" },
    cards.map(([key, label, value]) =>
      h("li", { "data-headline": key }, h("span", { class: "label" }, label), h("strong", {}, value)),
    ),
  );
}

const ALERT_LABELS = {
  case_due_soon: "案件即将到期",
  case_overdue: "案件已超期",
  complaint_due_soon: "投诉即将到期",
  complaint_overdue: "投诉已超期",
  task_overdue: "任务已逾期",
  pledge_defaulted: "质押贷款违约",
  indicator_worsened: "指标状态恶化",
  round_due_soon: "填报即将截止",
  round_missed: "逾期未填报",
};
let shownAlerts = null; // the alerts list last drawn (JSON), so that a poll redraws only when it moved

// The alerts nobody has acknowledged yet: what is now, so not shown for a past date.
async function openAlerts(ctx, code) {
  if (ctx.asOf) {
    const changed = shownAlerts !== null;
    shownAlerts = null;
    return { items: null, changed };
  }
  const url = `/api/alerts${query({ region: code, acknowledged: "false", limit: 20 })}`;
  const { body } = await getJSON(url, ctx.user);
  const text = JSON.stringify(body.items);
  const changed = text !== shownAlerts;
  shownAlerts = text;
  return { items: body.items, changed };
}

function alertList(ctx, items) {
  if (!items.length) return h("p", { class: "empty", id: "alerts" }, "暂无待办提醒。");
  const mayAcknowledge = ctx.user.roles.some((role) => role === "officer" || role === "admin");
  const list = h("ol", { class: "alerts", id: "alerts" });
  for (const alert of items) {
    const item = h(
      "li",
      { "data-alert": alert.id, "data-alert-kind": alert.kind },
      h("time", { datetime: alert.raised_on }, alert.raised_on),
      h("span", { class: `what alert-${alert.kind}` }, ALERT_LABELS[alert.kind] ?? alert.kind),
      h("span", { class: "title" }, alert.title),
      h("span", { class: "where" }, alert.responsible.join("、")),
    );
    if (mayAcknowledge) {
      const button = h("button", { type: "button", class: "acknowledge" }, "知悉");
      button.addEventListener("click", async () => {
        button.disabled = true;
        try {
          await postAction(`/api/alerts/${enc(alert.id)}/acknowledge`, ctx.user);
          item.remove();
          shownAlerts = null;
        } catch {
          button.disabled = false;
          button.textContent = "重试";
        }
      });
      item.append(button);
    }
    list.append(item);
  }
  return list;
}

export async function overviewView(ctx, fresh, code) {
  if (!ctx.user) return { freshness: null, node: signInPrompt("区域概览需要登录后查看。") };
  if (!code) return { freshness: null, node: h("p", { class: "empty" }, "您的令牌没有指定地区。") };
  const [{ bodies, changed }, alerts] = await Promise.all([
    load(ctx, [`/api/progress/regions/${enc(code)}${query({ as_of: ctx.asOf })}`]),
    openAlerts(ctx, code),
  ]);
  const [view] = bodies;
  if (!changed && !alerts.changed && !fresh) return { freshness: view.freshness, node: null };
  const node = h(
    "section",
    { id: "overview", "data-region": view.region.code },
    h("h1", {}, `${view.region.name}`, h("small", {}, ` ${view.region.code} · 数据截至 ${view.as_of}`)),
    headlineCards(view.headline),
    alerts.items ? [h("h2", {}, "待办提醒"), alertList(ctx, alerts.items)] : null,
    h("h2", {}, "规划"),
    view.plans.length
      ? h(
          "table",
          { class: "table", id: "overview-plans" },
          h(
            "thead",
            {},
            h("tr", {}, ["规划", "地区", "期间", "指标状态", "逾期任务"].map((t) => h("th", {}, t))),
          ),
          h(
            "tbody",
            {},
            view.plans.map((plan) =>
              h(
                "tr",
                { "data-plan-row": plan.key },
                h("td", {}, planLink(plan)),
                h("td", {}, plan.region_name ?? plan.region),
                h("td", {}, period(plan)),
                h("td", {}, statusStrip(plan.status_counts), statusCounts(plan.status_counts)),
                h("td", { class: plan.overdue_tasks ? "num overdue" : "num" }, plan.overdue_tasks),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, "本地区还没有执行中的规划。"),
    h("h2", {}, "最新动态"),
    view.latest_events.length
      ? h(
          "ol",
          { class: "events", id: "latest-events" },
          view.latest_events.map((event) =>
            h(
              "li",
              { "data-event": event.id, "data-event-type": event.type },
              h("time", { datetime: event.time }, dateTime(event.time)),
              h("span", { class: "what" }, eventLabel(event.type)),
              h("span", { class: "subject" }, event.subject),
              h("span", { class: "where" }, ctx.regionName(event.region)),
            ),
          ),
        )
      : h("p", { class: "empty" }, "暂无动态。"),
  );
  return { freshness: view.freshness, node };
}

// --- scorecard ---------------------------------------------------------------------------------

export async function scorecardView(ctx, fresh) {
  if (!ctx.user) return { freshness: null, node: signInPrompt("评分卡需要登录后查看。") };
  const { bodies, changed } = await load(ctx, [`/api/progress/scorecard${query({ as_of: ctx.asOf })}`]);
  const [view] = bodies;
  if (!changed && !fresh) return { freshness: view.freshness, node: null };
  const columns = ["地区", "规划", "指标状态", "滞后", "有风险", "在办案件", "超期案件", "本年质押融资", "在营机构", "待处理投诉"];
  const node = h(
    "section",
    { id: "scorecard" },
    h("h1", {}, "评分卡", h("small", {}, ` 数据截至 ${view.as_of}`)),
    view.items.length
      ? h(
          "table",
          { class: "table", id: "scorecard-table" },
          h("thead", {}, h("tr", {}, columns.map((t) => h("th", {}, t)))),
          h(
            "tbody",
            {},
            view.items.map((row) =>
              h(
                "tr",
                { "data-region": row.region, class: row.region === ctx.region ? "selected" : null },
                h("td", {}, h("a", { href: `#/region/${enc(row.region)}` }, row.name ?? row.region)),
                h("td", { class: "num" }, row.plans),
                h("td", {}, statusStrip(row.status_counts)),
                h("td", { class: row.status_counts.behind ? "num bad" : "num" }, row.status_counts.behind),
                h("td", { class: row.status_counts.at_risk ? "num warn" : "num" }, row.status_counts.at_risk),
                h("td", { class: "num" }, number(row.headline.open_cases, 0)),
                h("td", { class: row.headline.overdue_open_cases ? "num bad" : "num" }, row.headline.overdue_open_cases),
                h("td", { class: "num" }, pledgeAmount(row.headline.pledge_amount_this_year)),
                h("td", { class: "num" }, number(row.headline.active_agencies, 0)),
                h("td", { class: "num" }, number(row.headline.open_complaints, 0)),
              ),
            ),
          ),
        )
      : h("p", { class: "empty" }, "您的地区还没有规划或记录。"),
  );
  return { freshness: view.freshness, node };
}
