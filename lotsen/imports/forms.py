from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from lotsen.forms import BaseForm, OptionalSelectField, SelectField
from lotsen.households.vocab import Source, choices
from lotsen.imports.services import field_choices

DUPLICATE_ACTIONS = (
    ("skip", _l("Skip the row")),
    ("attach", _l("Attach it to the existing household")),
    ("create", _l("Create a new household anyway")),
)


class UploadForm(BaseForm):
    file = FileField(
        _l("Spreadsheet file"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "CSV in UTF-8 (comma or semicolon separated) or Excel .xlsx; the first row holds "
            "the column names."
        ),
    )


class BaseMappingForm(BaseForm):
    municipality = OptionalSelectField(_l("Municipality for rows without one"), choices=[])
    source = OptionalSelectField(
        _l("Source for rows without one"), choices=choices(Source, _l("- none -"))
    )


def mapping_form(header: list[str], municipalities, allow_none: bool, **kwargs):
    """A select per column of the file (its field, or not imported) and the defaults."""

    class MappingForm(BaseMappingForm):
        pass

    for i, title in enumerate(header):
        label = title or _l("Column %(n)d", n=i + 1)
        setattr(MappingForm, f"col_{i}", SelectField(label, choices=field_choices(), default=""))
    form = MappingForm(**kwargs)
    none = [("", _l("Not sure yet"))] if allow_none else []
    form.municipality.choices = [*none, *[(m.code, m.name) for m in municipalities]]
    return form


class RunForm(BaseForm):
    duplicates = SelectField(
        _l("Rows with the same e-mail or phone as a household"),
        choices=DUPLICATE_ACTIONS,
        default="skip",
        description=_l("Applies to every such row unless you choose otherwise below."),
    )
