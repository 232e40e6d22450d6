"""`hipspine spinopelvic` end to end: JSON, text, pictures, DICOM spacing, exit codes."""

from __future__ import annotations

import json
import re
import struct
import sys

import pytest
from spinopelvic_builder import build_landmarks, build_view

from hipspine import cli


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["hipspine", *args])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _write_dicom(path, tag: str, value: list[float], size: tuple[int, int] | None = None) -> None:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # digital X-ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.Modality = "DX"
    setattr(ds, tag, value)
    if size is not None:
        ds.Columns, ds.Rows = size
    ds.save_as(str(path), enforce_file_format=True)


def test_json_on_shared_example(monkeypatch, capsys, shared_dir):
    code, out, _ = run(monkeypatch, capsys, "spinopelvic",
                       str(shared_dir / "examples" / "landmarks.json"), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["format"] == "hipspine.spinopelvic/1"
    assert doc["hip_spine_class"] == "1A" and doc["standing"]["pi"] == pytest.approx(52, abs=0.5)
    assert doc["engine_version"] and doc["knowledge_version"]


def test_text_output_and_pictures(monkeypatch, capsys, tmp_path, shared_dir):
    svg, png = tmp_path / "a.svg", tmp_path / "a.png"
    code, out, _ = run(monkeypatch, capsys, "spinopelvic",
                       str(shared_dir / "examples" / "landmarks.json"),
                       "--svg", str(svg), "--png", str(png))
    assert code == 0
    assert "Hip-Spine class: 1A" in out and "[luthringer2019]" in out
    text = svg.read_text()
    assert text.startswith("<svg") and "PI 52°" in text and "s1_anterior" in text
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # the PNG is drawn from the SVG's layout: one scale, the same placed labels, same size
    size = re.search(r'width="(\d+)" height="(\d+)"', text)
    assert size is not None
    png_w, png_h = struct.unpack(">II", data[16:24])
    assert abs(png_w - int(size[1])) <= 1 and abs(png_h - int(size[2])) <= 1


@pytest.mark.parametrize("tag", ["PixelSpacing", "ImagerPixelSpacing"])
def test_dicom_supplies_pixel_spacing(monkeypatch, capsys, tmp_path, tag):
    doc = build_landmarks(build_view(50, 10, 40, 60, row_mm=0.15, col_mm=0.15), spacing=None)
    (tmp_path / "l.json").write_text(json.dumps(doc))
    _write_dicom(tmp_path / "x.dcm", tag, [0.15, 0.15])
    code, out, _ = run(monkeypatch, capsys, "spinopelvic", str(tmp_path / "l.json"),
                       "--dicom", str(tmp_path / "x.dcm"), "--format", "json")
    assert code == 0
    assert json.loads(out)["standing"]["sva_mm"] == pytest.approx(60, abs=0.5)


def test_dicom_conflicting_with_typed_spacing_is_bad_input(monkeypatch, capsys, tmp_path):
    doc = build_landmarks(build_view(50, 10, 40, 60), spacing=0.2)
    (tmp_path / "l.json").write_text(json.dumps(doc))
    _write_dicom(tmp_path / "x.dcm", "PixelSpacing", [0.1, 0.1])
    code, _, err = run(monkeypatch, capsys, "spinopelvic", str(tmp_path / "l.json"),
                       "--dicom", str(tmp_path / "x.dcm"))
    assert code == 2 and "pixel_spacing_mm" in err


def test_not_a_dicom_file_is_bad_input(monkeypatch, capsys, tmp_path, shared_dir):
    (tmp_path / "x.dcm").write_text("not dicom")
    code, _, err = run(monkeypatch, capsys, "spinopelvic",
                       str(shared_dir / "examples" / "landmarks.json"),
                       "--dicom", str(tmp_path / "x.dcm"))
    assert code == 2 and "--dicom" in err


def test_bad_landmark_exits_2_naming_it(monkeypatch, capsys):
    doc = build_landmarks(build_view(50, 10, 40))
    doc["standing"]["s1_anterior"] = doc["standing"]["s1_posterior"]
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(json.dumps(doc)))
    code, out, err = run(monkeypatch, capsys, "spinopelvic", "-")
    assert code == 2 and "standing.s1_anterior" in err and "Traceback" not in err + out


def test_dicom_image_size_catches_a_landmark_outside_the_image(monkeypatch, capsys, tmp_path):
    doc = build_landmarks(build_view(50, 10, 40, 60), spacing=None)
    doc["standing"]["c7_centroid"] = [1400.0, -20.0]
    (tmp_path / "l.json").write_text(json.dumps(doc))
    _write_dicom(tmp_path / "x.dcm", "PixelSpacing", [0.2, 0.2], size=(3000, 4000))
    code, _, err = run(monkeypatch, capsys, "spinopelvic", str(tmp_path / "l.json"),
                       "--dicom", str(tmp_path / "x.dcm"))
    assert code == 2 and "standing.c7_centroid" in err
