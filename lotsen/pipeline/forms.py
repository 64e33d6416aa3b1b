from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField
from wtforms.validators import NumberRange, Optional, ValidationError

from lotsen.forms import GetForm, OptionalSelectField, SelectField
from lotsen.households.vocab import Source, choices
from lotsen.workdays import local_date

MAX_PERIOD_DAYS = 3 * 366


class PeriodChecks:
    """For a form with ``since`` and ``until`` dates: the end after the start, at most
    three years (the pipeline's and the event outcomes' period filters)."""

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end of the period comes before its start."))
        if (
            field.data
            and self.since.data
            and field.data - self.since.data > timedelta(days=MAX_PERIOD_DAYS)
        ):
            raise ValidationError(_l("Choose a period of at most three years."))


class _Narrowing(GetForm):
    municipality = OptionalSelectField(_l("Municipality"), choices=[])
    source = OptionalSelectField(_l("Source"), choices=choices(Source, _l("All sources")))

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [
            ("", _l("All municipalities")),
            *[(m.code, m.name) for m in municipalities],
        ]


class DashboardFilterForm(PeriodChecks, _Narrowing):
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def period(self, now) -> tuple[date, date]:
        """The chosen period; by default this year up to today."""
        today = local_date(now)
        until = self.until.data or today
        since = self.since.data or until.replace(month=1, day=1)
        return since, until


class ReportForm(_Narrowing):
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])
    quarter = OptionalSelectField(
        _l("Quarter"),
        choices=[("1", "Q1"), ("2", "Q2"), ("3", "Q3"), ("4", "Q4")],
        coerce=lambda v: int(v) if v else None,
    )
    format = SelectField(
        _l("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")], default="csv"
    )


class ExportForm(GetForm):
    format = SelectField(
        _l("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")], default="csv"
    )


class BoardFilterForm(GetForm):
    KEYS = ("municipality", "mine")  # the board's query string, kept on its links

    municipality = OptionalSelectField(_l("Municipality"), choices=[])
    mine = OptionalSelectField(
        _l("Households"),
        choices=[("", _l("All I may see")), ("1", _l("Only those I guide"))],
    )

    def __init__(self, *args, municipalities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality.choices = [
            ("", _l("All municipalities")),
            *[(m.code, m.name) for m in municipalities],
        ]
