"""Real document files of each format, written by the libraries that make them (fpdf2, pypdf, python-docx), for
the loader tests, the robustness table and the end-to-end run."""

from __future__ import annotations

from pathlib import Path

NURSE = (
    "Registered nurses on the surgical ward assess patients after operations, give medication on schedule, "
    "change wound dressings and teach families how to care for the patient at home. Night shifts rotate monthly."
)
CHEF = (
    "The sous chef runs the kitchen line during dinner service, checks every plate before it leaves the pass, "
    "orders fish and vegetables from suppliers and trains new cooks on knife skills and food safety."
)
ELECTRICIAN = (
    "Electricians install wiring, breaker panels and lighting in new homes, read blueprints to place outlets, "
    "test circuits with a multimeter and fix faults that trip the breakers in older buildings."
)
DRIVER = (
    "Long-haul truck drivers move freight across states, inspect brakes and tyres before each trip, keep a log "
    "of driving hours and secure loads with straps so nothing shifts on the highway."
)
ACCOUNTANT = (
    "Staff accountants close the books each month, reconcile bank statements with the ledger, prepare tax "
    "filings for the auditors and explain variances in the budget to department managers."
)


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_image_only_pdf(path: Path) -> Path:
    """A page with a drawing and no text layer, as a scanner writes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 120, 80, style="F")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_encrypted_pdf(path: Path, text: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(path.with_name(path.stem + "_plain.tmp"), [text])
    writer = PdfWriter(clone_from=PdfReader(plain))
    # RC4 needs no optional crypto package; the user password is what a reader without it cannot get past
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with open(path, "wb") as f:
        writer.write(f)
    plain.unlink()
    return path


def write_docx(path: Path, heading: str, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def write_html(path: Path, title: str, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html><head><title>{title}</title><style>p {{color: red}}</style>"
        f"<script>var tracking = 1;</script></head><body><h1>{title}</h1><p>{body}</p></body></html>",
        encoding="utf-8",
    )
    return path


def mixed_folder(folder: Path) -> Path:
    """One document of each format (PDF of two pages, HTML, DOCX, Markdown, text) in nested folders."""
    write_pdf(folder / "manuals" / "nursing.pdf", [NURSE, NURSE.replace("Night", "Day")], title="Ward handbook")
    write_html(folder / "web" / "sous-chef.html", "Sous chef", CHEF)
    write_docx(folder / "electrician.docx", "Electrician", [ELECTRICIAN], [["Tool", "Use"], ["multimeter", "tests"]])
    (folder / "driver.md").write_text(f"# Truck driver\n\n{DRIVER}\n", encoding="utf-8")
    (folder / "accountant.txt").write_text(ACCOUNTANT + "\n", encoding="utf-8")
    return folder
