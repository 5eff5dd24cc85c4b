// 填报与审核: a plan's reporting rounds. A department fills in its values and task progress for the
// round it owes and submits; an officer of the plan's region approves or returns what awaits
// review; everyone signed in sees each round's completeness (on time, late, missing).

import { ApiError, getJSON, query, sendJSON } from "./api.js";
import { h } from "./dom.js";
import { number } from "./format.js";

const enc = encodeURIComponent;
const PERIOD_LABELS = { monthly: "每月", quarterly: "每季度", half_yearly: "每半年", yearly: "每年" };
const TIMELINESS_LABELS = { on_time: "按时", late: "逾期提交", missing: "未报", open: "填报中" };
const SUBMISSION_LABELS = { submitted: "待审核", approved: "已通过", returned: "已退回" };
let shownRounds = null; // the rounds last drawn (JSON): a poll redraws only when they moved

function roundsUrl(key) {
  return `/api/plans/${enc(key)}/rounds`;
}

function submissionUrl(key, round, department) {
  return `${roundsUrl(key)}/${enc(round)}/submissions/${enc(department)}`;
}

function isOfficer(user) {
  return user.roles.some((role) => role === "officer" || role === "admin");
}

// The round a department owes: the newest it has not submitted, or whose submission came back.
function owedRound(rounds, department) {
  for (const round of rounds.items) {
    const entry = round.departments.find((d) => d.department === department);
    if (entry && (entry.submission === null || entry.status === "returned")) return { round, entry };
  }
  return null;
}

export async function roundsView(ctx, fresh, key, signInPrompt) {
  if (!ctx.user) return { freshness: null, node: signInPrompt("填报与审核需要登录后查看。") };
  if (!key) return planChoice(ctx, fresh);
  // A form being filled in is never redrawn under the user's hands (a live update, a second
  // drawing of the same view), before or after the answers are loaded; submitting it redraws.
  if (filling(key)) return { freshness: null, node: null };
  const [rounds, plan] = await Promise.all([
    getJSON(roundsUrl(key), ctx.user).then((a) => a.body),
    getJSON(`/api/plans/${enc(key)}`, ctx.user).then((a) => a.body),
  ]);
  const text = JSON.stringify(rounds);
  if ((!fresh && text === shownRounds) || filling(key)) return { freshness: null, node: null };
  shownRounds = text;
  const review = rounds.reporting?.review === "required";
  const queue = isOfficer(ctx.user) && review ? await reviewQueue(ctx, key, rounds, plan) : null;
  const owed = ctx.user.department ? owedRound(rounds, ctx.user.department) : null;
  const node = h(
    "section",
    { id: "rounds", "data-plan": key },
    h("h1", {}, plan.title, h("small", {}, " 填报与审核")),
    h("p", { class: "muted", id: "reporting-settings" }, settingsText(rounds.reporting)),
    ctx.user.department ? departmentPart(ctx, key, plan, owed) : null,
    queue,
    h("h2", {}, "各部门填报情况"),
    completenessTable(rounds),
    h("h2", {}, "填报轮次"),
    roundsTable(rounds),
  );
  return { freshness: null, node };
}

// The plans of the picked region, each leading to its rounds.
async function planChoice(ctx, fresh) {
  const { body, changed } = await getJSON(`/api/progress/plans${query({ region: ctx.region })}`, ctx.user);
  if (!changed && !fresh) return { freshness: body.freshness, node: null };
  const active = body.items.filter((plan) => plan.status === "active");
  const node = h(
    "section",
    { id: "rounds" },
    h("h1", {}, "填报与审核"),
    active.length
      ? h(
          "ul",
          { class: "plan-choice", id: "rounds-plans" },
          active.map((plan) => h("li", {}, h("a", { href: `#/rounds/${enc(plan.key)}`, "data-plan": plan.key }, plan.title))),
        )
      : h("p", { class: "empty" }, "本地区没有执行中的规划。"),
  );
  return { freshness: body.freshness, node };
}

function filling(key) {
  return document.querySelector(`#rounds[data-plan="${CSS.escape(key)}"] #round-form[data-dirty]`) !== null;
}

function settingsText(reporting) {
  if (!reporting) return "本规划尚未设置填报轮次。";
  const review = reporting.review === "required" ? "经审核后计入进展" : "提交即计入进展";
  const since = reporting.start ? `自 ${reporting.start} 所在期起` : "";
  return `${since}${PERIOD_LABELS[reporting.period] ?? reporting.period}填报,期末后 ${reporting.due_days} 日内提交;${review}。`;
}

function completenessTable(rounds) {
  if (!rounds.departments.length) return h("p", { class: "empty" }, "尚无需要填报的部门。");
  return h(
    "table",
    { class: "table", id: "completeness" },
    h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "部门"), ["按时", "逾期提交", "未报", "填报中", "填报率"].map((t) => h("th", { class: "num" }, t))),
    ),
    h(
      "tbody",
      {},
      rounds.departments.map((d) =>
        h(
          "tr",
          { "data-department": d.department },
          h("td", {}, d.department),
          h("td", { class: "num" }, d.on_time),
          h("td", { class: "num" }, d.late),
          h("td", { class: d.missing ? "num overdue" : "num" }, d.missing),
          h("td", { class: "num" }, d.open),
          h("td", { class: "num rate" }, d.reporting_rate === null ? "—" : `${number(d.reporting_rate, 1)}%`),
        ),
      ),
    ),
  );
}

function roundsTable(rounds) {
  if (!rounds.items.length) return h("p", { class: "empty" }, "还没有已开始的填报轮次。");
  return h(
    "table",
    { class: "table", id: "round-list" },
    h("thead", {}, h("tr", {}, ["轮次", "期间", "截止", "各部门"].map((t) => h("th", {}, t)), h("th", { class: "num" }, "填报率"))),
    h(
      "tbody",
      {},
      rounds.items.map((round) =>
        h(
          "tr",
          { "data-round": round.round },
          h("td", {}, round.round),
          h("td", {}, `${round.start} 至 ${round.end}`),
          h("td", {}, round.due),
          h(
            "td",
            {},
            h(
              "ul",
              { class: "chips" },
              round.departments.map((d) =>
                h(
                  "li",
                  { class: `chip timeliness-${d.timeliness}`, "data-department": d.department, "data-timeliness": d.timeliness },
                  `${d.department} · ${TIMELINESS_LABELS[d.timeliness] ?? d.timeliness}`,
                  d.status ? ` · ${SUBMISSION_LABELS[d.status] ?? d.status}` : "",
                ),
              ),
            ),
          ),
          h("td", { class: "num" }, round.reporting_rate === null ? "—" : `${number(round.reporting_rate, 1)}%`),
        ),
      ),
    ),
  );
}

// --- a department fills in its round -------------------------------------------------------------

function departmentPart(ctx, key, plan, owed) {
  const department = ctx.user.department;
  if (!owed) return [h("h2", {}, "本部门填报"), h("p", { class: "empty", id: "round-form" }, `${department}没有待填报的轮次。`)];
  const { round, entry } = owed;
  const indicators = plan.indicators.filter((i) => i.accepts_reports && i.responsible.includes(department));
  const tasks = plan.tasks.filter((t) => t.responsible.includes(department));
  const again = entry.status === "returned";
  const form = h(
    "form",
    { id: "round-form", "data-round": round.round, novalidate: true },
    h(
      "p",
      { class: "muted" },
      `${round.round}(${round.start} 至 ${round.end}),${round.due} 前提交`,
      entry.timeliness === "missing" ? h("strong", { class: "overdue" }, " · 已逾期") : null,
    ),
    again ? h("p", { class: "notice", id: "returned-reason" }, "已退回,请修改后重新提交。") : null,
    indicators.length
      ? h(
          "fieldset",
          {},
          h("legend", {}, "指标数值(期末值)"),
          indicators.map((i) =>
            h(
              "label",
              { class: "field" },
              h("span", {}, `${i.name}(${i.unit})`),
              h("input", { name: `value:${i.key}`, inputmode: "decimal", autocomplete: "off", "data-indicator": i.key }),
            ),
          ),
        )
      : null,
    tasks.length
      ? h(
          "fieldset",
          {},
          h("legend", {}, "任务进展"),
          tasks.map((t) =>
            h(
              "label",
              { class: "field" },
              h("span", {}, t.title),
              h("textarea", { name: `task:${t.key}`, rows: 2, "data-task": t.key }),
            ),
          ),
        )
      : null,
    h("label", { class: "field" }, h("span", {}, "说明"), h("textarea", { name: "note", rows: 2 })),
    h("label", { class: "field" }, h("span", {}, "附件编号或链接"), h("input", { name: "attachment", autocomplete: "off" })),
    h("p", { class: "form-error", id: "round-form-error", role: "alert" }),
    h("button", { type: "submit", class: "primary" }, again ? "重新提交" : "提交"),
  );
  form.addEventListener("input", () => {
    form.dataset.dirty = "true";
  });
  if (again) prefill(ctx, key, round.round, department, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = formBody(form);
    const error = form.querySelector("#round-form-error");
    if (!body) {
      error.textContent = "请至少填写一项指标数值或任务进展。";
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const url = again ? submissionUrl(key, round.round, department) : `${roundsUrl(key)}/${enc(round.round)}/submissions`;
      await sendJSON(again ? "PUT" : "POST", url, body, ctx.user);
      delete form.dataset.dirty;
      ctx.notify(`${round.round} 已提交`);
      ctx.refresh(true);
    } catch (failure) {
      error.textContent = problemText(failure);
      button.disabled = false;
    }
  });
  return [h("h2", {}, "本部门填报"), form];
}

function formBody(form) {
  const data = new FormData(form);
  const values = [];
  const tasks = [];
  for (const [name, raw] of data.entries()) {
    const value = String(raw).trim();
    if (!value) continue;
    if (name.startsWith("value:")) values.push({ indicator: name.slice(6), value });
    else if (name.startsWith("task:")) tasks.push({ task: name.slice(5), progress: value });
  }
  if (!values.length && !tasks.length) return null;
  const note = String(data.get("note") ?? "").trim();
  const attachment = String(data.get("attachment") ?? "").trim();
  return { values, tasks, note: note || null, attachment: attachment || null };
}

// A returned submission: its values, tasks and the officer's reason, to correct rather than retype.
async function prefill(ctx, key, round, department, form) {
  const { body } = await getJSON(submissionUrl(key, round, department), ctx.user);
  for (const v of body.values) {
    const input = form.querySelector(`[data-indicator="${CSS.escape(v.indicator)}"]`);
    if (input && !input.value) input.value = v.value;
  }
  for (const t of body.tasks) {
    const input = form.querySelector(`[data-task="${CSS.escape(t.task)}"]`);
    if (input && !input.value) input.value = t.progress;
  }
  const returned = [...body.history].reverse().find((step) => step.action === "returned");
  if (returned?.reason) form.querySelector("#returned-reason").textContent = `已退回:${returned.reason}。请修改后重新提交。`;
}

function problemText(failure) {
  if (!(failure instanceof ApiError)) return `提交失败:${failure.message}`;
  const problem = failure.problem;
  const errors = (problem?.errors ?? []).map((e) => e.msg).join(";");
  return `提交失败(${failure.status}):${problem?.detail ?? problem?.title ?? ""}${errors ? `(${errors})` : ""}`;
}

// --- an officer reviews ------------------------------------------------------------------------

async function reviewQueue(ctx, key, rounds, plan) {
  const names = new Map([
    ...plan.indicators.map((i) => [`indicator:${i.key}`, i.name]),
    ...plan.tasks.map((t) => [`task:${t.key}`, t.title]),
  ]);
  const waiting = rounds.items.flatMap((round) =>
    round.departments.filter((d) => d.status === "submitted").map((d) => ({ round, department: d.department })),
  );
  const submissions = await Promise.all(
    waiting.map((w) => getJSON(submissionUrl(key, w.round.round, w.department), ctx.user).then((a) => a.body)),
  );
  const list = waiting.length
    ? h(
        "ol",
        { class: "review-queue", id: "review-queue" },
        submissions.map((s) => reviewItem(ctx, key, s, names)),
      )
    : h("p", { class: "empty", id: "review-queue" }, "没有待审核的填报。");
  return [h("h2", {}, "待审核"), list];
}

function reviewItem(ctx, key, submission, names) {
  const url = submissionUrl(key, submission.round, submission.department);
  const reason = h("input", { class: "return-reason", placeholder: "退回理由", "aria-label": "退回理由", hidden: true });
  const error = h("span", { class: "form-error", role: "alert" });
  const act = async (path, body) => {
    try {
      await sendJSON("POST", `${url}/${path}`, body, ctx.user);
      ctx.notify(path === "approve" ? "已通过" : "已退回");
      ctx.refresh(true);
    } catch (failure) {
      error.textContent = problemText(failure);
    }
  };
  const approve = h("button", { type: "button", class: "approve primary" }, "通过");
  approve.addEventListener("click", () => act("approve", null));
  const giveBack = h("button", { type: "button", class: "return" }, "退回");
  giveBack.addEventListener("click", () => {
    if (reason.hidden) {
      reason.hidden = false;
      reason.focus();
      return;
    }
    if (!reason.value.trim()) {
      error.textContent = "请填写退回理由。";
      reason.focus();
      return;
    }
    act("return", { reason: reason.value.trim() });
  });
  reason.addEventListener("keydown", (event) => {
    if (event.key === "Enter") giveBack.click();
  });
  return h(
    "li",
    { "data-submission": submission.id, "data-department": submission.department, "data-round": submission.round },
    h("strong", {}, `${submission.round} · ${submission.department}`),
    h("span", { class: "muted" }, ` ${submission.first_submitted_on} 提交(${TIMELINESS_LABELS[submission.timeliness]})`),
    h(
      "ul",
      { class: "submitted-values" },
      submission.values.map((v) =>
        h("li", { "data-indicator": v.indicator }, `${names.get(`indicator:${v.indicator}`) ?? v.indicator}:${v.value} ${v.unit}`),
      ),
      submission.tasks.map((t) => h("li", { "data-task": t.task }, `${names.get(`task:${t.task}`) ?? t.task}:${t.progress}`)),
    ),
    submission.note ? h("p", { class: "muted" }, `说明:${submission.note}`) : null,
    h("div", { class: "actions" }, approve, giveBack, reason, error),
  );
}
