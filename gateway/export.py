"""The plan progress view as an Excel workbook, for the office's report."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

STATUS_LABELS = {
    "not_started": "未开始",
    "no_data": "无数据",
    "achieved": "已达成",
    "on_track": "正常",
    "at_risk": "有风险",
    "behind": "滞后",
}
STATUS_FILLS = {"achieved": "C6EFCE", "on_track": "DDEBF7", "at_risk": "FFEB9C", "behind": "FFC7CE"}
YEAR_VERDICT_LABELS = {"met": "达标", "missed": "未达标", "in_progress": "进行中", "no_data": "无数据"}
TASK_LABELS = {"planned": "未开始", "in_progress": "进行中", "done": "已完成", "delayed": "延期"}


def _text(value) -> str:
    """Cells that look like formulas are written as text (CSV/Excel injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def progress_workbook(view: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "指标进度"
    plan = view["plan"]
    sheet.append([_text(plan["title"])])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            f"地区 {plan['region_name'] or plan['region']}",
            f"期间 {plan['start']} 至 {plan['end']}",
            f"截至 {view['as_of']}",
        ]
    )
    sheet.append([])
    header = [
        "指标",
        "单位",
        "目标值",
        "本年里程碑",
        "实际值",
        "期望值",
        "状态",
        "预测期末值",
        "预测达标",
        "责任单位",
        "说明",
    ]
    sheet.append(header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for item in view["indicators"]:
        sheet.append(
            [
                _text(item["name"]),
                item["unit"],
                _figure(item["target"], item.get("target_max")),
                _figure(item["milestone_this_year"], item.get("milestone_this_year_max")),
                _number(item["actual"]),
                _number(item["expected"]),
                STATUS_LABELS.get(item["status"], item["status"]),
                _number(item["forecast"]),
                {True: "是", False: "否", None: ""}[item["forecast_meets_target"]],
                _text("、".join(item["responsible"])),
                _text(item["explanation"]),
            ]
        )
        fill = STATUS_FILLS.get(item["status"])
        if fill:
            sheet.cell(row=sheet.max_row, column=7).fill = PatternFill("solid", fgColor=fill)
    for column, width in zip("ABCDEFGHIJK", (34, 6, 10, 12, 12, 12, 8, 12, 9, 24, 60), strict=True):
        sheet.column_dimensions[column].width = width
    years = [(item, year) for item in view["indicators"] for year in item.get("years", [])]
    if years:
        sheet = book.create_sheet("年度判定")
        sheet.append(["指标", "年度", "起", "止", "全年目标", "计划内应达", "实际值", "判定"])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for item, year in years:
            sheet.append(
                [
                    _text(item["name"]),
                    year["year"],
                    str(year["start"]),
                    str(year["end"]),
                    _figure(year["figure"], year["figure_max"]),
                    _number(year["due"]),
                    _number(year["actual"]),
                    YEAR_VERDICT_LABELS[year["verdict"]],
                ]
            )
    tasks = book.create_sheet("重点任务")
    tasks.append(["状态", *[TASK_LABELS[s] for s in view["tasks"]["counts"]]])
    tasks.append(["数量", *view["tasks"]["counts"].values()])
    tasks.append([])
    tasks.append(["逾期任务", "责任单位", "完成时限", "状态"])
    for task in view["tasks"]["overdue"]:
        tasks.append(
            [
                _text(task["title"]),
                _text("、".join(task["responsible"])),
                str(task["due"]),
                TASK_LABELS.get(task["status"], task["status"]),
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _figure(value: str | None, maximum: str | None):
    """A figure, or a range as text "1—2" (the minimum counts)."""
    return _number(value) if maximum is None else f"{value}—{maximum}"


def _number(value: str | None):
    """Decimal strings become numbers in the sheet (Excel has no decimals; shown, not summed)."""
    return None if value is None else float(value)
