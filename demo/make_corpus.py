"""Generate the demo corpus's DOCX and PDF files (Northwind Robotics, an invented company).

    .venv/bin/python demo/make_corpus.py

The generated files are committed too, so a fresh clone has them. DOCX files come from
python-docx; PDF files from a small writer below (Helvetica text, one paragraph per block,
so pdfminer and unstructured read them like any text PDF). Output is deterministic: the same
script writes byte-identical files, so re-running it does not make ingestion re-embed them.
"""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

Block = tuple[str, str]  # (style, text): style is h1, h2, h3 or p

NDA: list[Block] = [
    ("h1", "MUTUAL NON-DISCLOSURE AGREEMENT"),
    (
        "p",
        'This Mutual Non-Disclosure Agreement (the "Agreement") is made on January 15, 2024 '
        'by and between Northwind Robotics, Inc., a Delaware corporation ("Northwind"), and '
        'Helios Sensors GmbH, a company registered in Munich, Germany ("Helios").',
    ),
    ("h2", "1. Purpose"),
    (
        "p",
        "1.1 The parties wish to evaluate a joint development of a lidar safety module for "
        'warehouse robots (the "Purpose") and will exchange confidential information for it.',
    ),
    ("h2", "2. Confidential Information"),
    (
        "p",
        '2.1 "Confidential Information" means all non-public technical, commercial and '
        "financial information disclosed by a party, in any form, that is marked as "
        "confidential or would reasonably be understood to be confidential.",
    ),
    ("p", "2.2 Confidential Information does not include information that:"),
    ("p", "(a) is or becomes public through no fault of the receiving party;"),
    ("p", "(b) the receiving party already lawfully knew before disclosure; or"),
    (
        "p",
        "(c) the receiving party develops independently without use of the disclosed information.",
    ),
    ("h2", "3. Obligations"),
    (
        "p",
        "3.1 The receiving party will use Confidential Information only for the Purpose and "
        "will disclose it only to employees and advisers who need to know it and are bound "
        "by similar confidentiality duties.",
    ),
    (
        "p",
        "3.2 The receiving party will protect Confidential Information with the same care it "
        "uses for its own, and at least with reasonable care.",
    ),
    ("h2", "4. Term"),
    (
        "p",
        "4.1 Either party may end the exchange of information on thirty (30) days' written notice.",
    ),
    (
        "p",
        "4.2 The confidentiality obligations continue for three (3) years after the date of "
        "each disclosure.",
    ),
    ("h2", "5. Return of Information"),
    (
        "p",
        "5.1 On written request, the receiving party will return or destroy all Confidential "
        "Information within fifteen (15) days and confirm the destruction in writing.",
    ),
    ("h2", "6. Governing Law"),
    (
        "p",
        "6.1 This Agreement is governed by the laws of Germany. The courts of Munich have "
        "exclusive jurisdiction.",
    ),
]

COMPENSATION: list[Block] = [
    ("h1", "Compensation Review Process 2024"),
    (
        "p",
        "This document is for the People team and department heads only. It sets the rules "
        "of the 2024 compensation review at Northwind Robotics.",
    ),
    ("h2", "Timeline"),
    (
        "p",
        "Managers submit merit proposals between March 1 and March 15. HR calibrates "
        "proposals per department by March 29. New salaries take effect on April 1.",
    ),
    ("h2", "Budget"),
    (
        "p",
        "The merit increase budget for 2024 is 4% of each department's base salary total. "
        "An additional promotion budget of 1% is held centrally by HR.",
    ),
    ("h2", "Guidelines"),
    (
        "p",
        "Employees rated 'exceeds expectations' may receive between 5% and 8%. Employees "
        "rated 'meets expectations' receive between 2% and 4%. No increase is given to "
        "employees on a performance improvement plan.",
    ),
    ("h2", "Confidentiality"),
    (
        "p",
        "Salary data may only be shared in the compensation tool. Exports must be deleted "
        "after the review closes on April 30.",
    ),
]

SUPPLY: list[Block] = [
    ("h1", "COMPONENT SUPPLY AGREEMENT"),
    (
        "p",
        'This Component Supply Agreement (the "Agreement") is dated February 1, 2024 and is '
        "made by and between Kestrel Components Ltd, a company registered in England "
        '("Supplier"), and Northwind Robotics, Inc., a Delaware corporation ("Buyer").',
    ),
    ("h2", "Article 1 - Supply of Components"),
    (
        "p",
        "1.1 Supplier will manufacture and deliver the drive motors, gearboxes and lidar "
        'housings listed in Schedule 1 (the "Components") against Buyer\'s purchase orders.',
    ),
    (
        "p",
        "1.2 Buyer will give Supplier a rolling six-month forecast every month. Forecasts "
        "are not binding; purchase orders are.",
    ),
    ("h2", "Article 2 - Delivery"),
    (
        "p",
        "2.1 Lead Time. Supplier will deliver each purchase order within forty-five (45) "
        "days of its acceptance, DAP Buyer's plant in Reno, Nevada.",
    ),
    (
        "p",
        "2.2 Late Delivery. For each full week of late delivery, Supplier credits Buyer 2% "
        "of the value of the late Components, up to a maximum of 10% of that value.",
    ),
    (
        "p",
        "2.3 Buyer may cancel a purchase order without charge if delivery is more than "
        "thirty (30) days late.",
    ),
    ("h2", "Article 3 - Quality and Warranty"),
    (
        "p",
        "3.1 Warranty. Supplier warrants that the Components will be free from defects in "
        "material and workmanship for twenty-four (24) months from delivery.",
    ),
    ("p", "3.2 Remedies. For a defective Component Supplier will, at Buyer's choice:"),
    ("p", "(a) replace the Component within ten (10) business days; or"),
    ("p", "(b) refund its price in full."),
    (
        "p",
        "3.3 If more than 1% of a delivery is defective, Buyer may reject the whole "
        "delivery at Supplier's cost.",
    ),
    ("h2", "Article 4 - Price and Payment"),
    (
        "p",
        "4.1 Prices are fixed in Schedule 1 until December 31, 2024 and may then be changed "
        "once a year on ninety (90) days' written notice.",
    ),
    ("p", "4.2 Buyer pays undisputed invoices within sixty (60) days of receipt."),
    ("h2", "Article 5 - Term and Termination"),
    (
        "p",
        "5.1 This Agreement runs for two (2) years from its date and then renews for one-year "
        "periods.",
    ),
    (
        "p",
        "5.2 Either party may terminate this Agreement for convenience by giving one "
        "hundred and twenty (120) days' prior written notice.",
    ),
    ("p", "5.3 Either party may terminate immediately if the other becomes insolvent."),
    ("h2", "Article 6 - Limitation of Liability"),
    (
        "p",
        "6.1 Supplier's total liability under this Agreement is capped at the amounts paid by "
        "Buyer in the preceding twelve (12) months, except for liability for product recalls "
        "caused by defective Components, which is capped at five million US dollars "
        "(USD 5,000,000).",
    ),
    ("h2", "Schedule 1 - Components and Prices"),
    ("p", "1. Drive motor DM-40: USD 310 per unit."),
    ("p", "2. Gearbox GX-12: USD 145 per unit."),
    ("p", "3. Lidar housing LH-7: USD 38 per unit."),
]

HANDBOOK: list[Block] = [
    ("h1", "Northwind Robotics Employee Handbook"),
    (
        "p",
        "Welcome to Northwind Robotics. This handbook explains how we work and what you can "
        "expect from us. It applies to all employees in the United States and the United "
        "Kingdom. Last revised: January 2024.",
    ),
    ("h2", "Working Hours"),
    (
        "p",
        "Our core hours are 10:00 to 16:00 local time. Outside core hours you organise your "
        "time with your team. Warehouse support staff work in shifts planned two weeks ahead.",
    ),
    ("h2", "Time Off"),
    ("h3", "Paid Time Off"),
    (
        "p",
        "Full-time employees receive 25 days of paid time off (PTO) per calendar year, plus "
        "public holidays. PTO is requested in the HR portal and approved by your manager.",
    ),
    (
        "p",
        "You can carry over up to 5 unused PTO days into the next year. Carried-over days "
        "must be used by March 31.",
    ),
    ("h3", "Sick Leave"),
    (
        "p",
        "You receive up to 10 paid sick days per year. Tell your manager before your shift "
        "starts. From the fourth consecutive sick day we need a doctor's note.",
    ),
    ("h3", "Parental Leave"),
    ("p", "Parents receive 16 weeks of fully paid parental leave after a birth or adoption."),
    ("h2", "Remote Work"),
    (
        "p",
        "Office-based employees may work remotely up to 3 days a week. Working from another "
        "country needs approval from HR at least 4 weeks in advance and is limited to 20 "
        "working days a year.",
    ),
    ("h2", "Expenses"),
    (
        "p",
        "Submit expenses within 30 days in the expense tool with a receipt. Meals while "
        "travelling are reimbursed up to USD 75 per day. Book flights in economy class; "
        "flights over 8 hours may be booked in premium economy.",
    ),
    ("h2", "Equipment"),
    (
        "p",
        "You receive a laptop and a monitor. You may spend up to USD 500 every two years on "
        "home office equipment.",
    ),
    ("h2", "Code of Conduct"),
    (
        "p",
        "We treat each other with respect. Report concerns to your manager, to HR, or "
        "anonymously through the ethics hotline.",
    ),
]


# DOCX --------------------------------------------------------------------------------------
def write_docx(path: Path, blocks: list[Block]) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.author = "Northwind Robotics"
    for style, text in blocks:
        if style == "p":
            doc.add_paragraph(text)
        else:
            doc.add_heading(text, level=int(style[1]))
    doc.save(str(path))
    _normalise_zip(path)


def _normalise_zip(path: Path) -> None:
    """Fixed timestamps and core properties, so the file is byte-identical on every run."""
    import re

    entries = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data = zf.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"<dcterms:(created|modified)([^>]*)>[^<]*</dcterms:\1>",
                    rb"<dcterms:\1\2>2024-01-01T00:00:00Z</dcterms:\1>",
                    data,
                )
            entries.append((info.filename, data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


# PDF ---------------------------------------------------------------------------------------
PAGE_W, PAGE_H, MARGIN = 612, 792, 72
SIZES = {"h1": 16, "h2": 13, "h3": 11.5, "p": 10.5}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _layout(blocks: list[Block]) -> list[list[tuple[str, float, float, float, str]]]:
    """Pages of (font, size, x, y, text) lines."""
    pages: list[list[tuple[str, float, float, float, str]]] = [[]]
    y = PAGE_H - MARGIN
    for style, text in blocks:
        size = SIZES[style]
        font = "F2" if style != "p" else "F1"
        width = int((PAGE_W - 2 * MARGIN) / (size * 0.5))
        lines = textwrap.wrap(text, width=width) or [""]
        needed = len(lines) * size * 1.35 + size
        if y - needed < MARGIN:
            pages.append([])
            y = PAGE_H - MARGIN
        y -= size * 0.6 if style == "p" else size
        for line in lines:
            pages[-1].append((font, size, MARGIN, y, line))
            y -= size * 1.35
        y -= size * 0.6
    return pages


def write_pdf(path: Path, blocks: list[Block], title: str) -> None:
    objects: list[bytes] = []
    pages = _layout(blocks)
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font regular, 4 font bold, 5 info, then (page, content) pairs
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    objects.append(f"<< /Title ({_escape(title)}) /Producer (loregate demo) >>".encode("latin-1"))
    for i, lines in enumerate(pages):
        ops = []
        for font, size, x, y, text in lines:
            ops.append(f"BT /{font} {size} Tf {x} {y:.2f} Td ({_escape(text)}) Tj ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            f"/Contents {7 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))


def main() -> None:
    write_docx(CORPUS / "contracts" / "helios-mutual-nda.docx", NDA)
    write_docx(CORPUS / "policies" / "hr" / "compensation-review-2024.docx", COMPENSATION)
    write_pdf(
        CORPUS / "contracts" / "kestrel-supply-agreement.pdf", SUPPLY, "Component Supply Agreement"
    )
    write_pdf(
        CORPUS / "handbook" / "employee-handbook.pdf",
        HANDBOOK,
        "Northwind Robotics Employee Handbook",
    )
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(CORPUS)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
