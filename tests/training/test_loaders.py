"""Loaders: COPE names with the real-world typos, folders, CSV, and refusals that say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.errors import MonitorError
from monitor.training.cope import CopeNameError, parse_cope_name
from monitor.training.labels import binary_labels
from monitor.training.loaders import load_data
from monitor.training.splits import inner_split, outer_folds


@pytest.mark.parametrize("stem, subject, sex, stimulus, index, corrected", [
    ("S04_M_air_1", "S04", "M", "air", 1, ""),
    ("S41_M_rest_2", "S41", "M", "rest", 2, ""),
    ("S12_F_friciton", "S12", "F", "friction", None, "'friciton' read as 'friction'"),
    ("S12_F_friciton_3", "S12", "F", "friction", 3, "'friciton' read as 'friction'"),
    ("S05_F_succrose_2", "S05", "F", "sucrose", 2, "'succrose' read as 'sucrose'"),
    ("S06_F_pain2", "S06", "F", "pain", 2, "'pain2' read as 'pain_2'"),
    ("S07_M_pain _1", "S07", "M", "pain", 1, "spaces removed"),
    ("s08_f_REST_1", "S08", "F", "rest", 1, ""),
    ("S9_M_Pain_Post_Succrose_3", "S09", "M", "pain_post_sucrose", 3, "'succrose' read as 'sucrose'"),
    ("S10_F_yawn", "S10", "F", "yawn", None, ""),
])
def test_cope_names_with_known_variants(stem, subject, sex, stimulus, index, corrected):
    name = parse_cope_name(stem)
    assert (name.subject, name.sex, name.stimulus, name.index) == (subject, sex, stimulus, index)
    assert (corrected in name.corrections) if corrected else name.corrections == ()


@pytest.mark.parametrize("stem, reason", [
    ("S10_M_hiccup_1", "unknown stimulus 'hiccup'"),
    ("S10_M_frition_1", "unknown stimulus 'frition'"),  # not a known typo: never guessed
    ("S10_X_rest_1", "not S<NN>"),
    ("IMG_0001", "not S<NN>"),
    ("S10_M_rest__1", "not S<NN>"),
    ("S10_M_1", "not S<NN>"),
    ("S10_M_pain_1_2", "not S<NN>"),
])
def test_cope_names_refused_not_guessed(stem, reason):
    with pytest.raises(CopeNameError, match=reason):
        parse_cope_name(stem)


def _touch(root: Path, *names: str) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8 not decoded by the loader")
    return root


def test_cope_folder_lists_every_file_it_cannot_use(tmp_path):
    _touch(tmp_path, "S01_F_pain_1.jpg", "S01_F_rest_1.JPG", "S02_M_pain2.jpeg",
           "sub/S02_M_friciton.png", "S02_M_hiccup.jpg", "Thumbs.db", "S03_F_rest_1.jpg.txt",
           "IMG_0001.jpg")
    data = load_data(tmp_path, "cope")
    assert sorted((s.path.name, s.label, s.subject) for s in data.samples) == [
        ("S01_F_pain_1.jpg", "pain", "S01"), ("S01_F_rest_1.JPG", "rest", "S01"),
        ("S02_M_friciton.png", "friction", "S02"), ("S02_M_pain2.jpeg", "pain", "S02")]
    skipped = {s.path.name: s.reason for s in data.skipped}
    assert set(skipped) == {"S02_M_hiccup.jpg", "Thumbs.db", "S03_F_rest_1.jpg.txt", "IMG_0001.jpg"}
    assert "unknown stimulus 'hiccup'" in skipped["S02_M_hiccup.jpg"]
    assert skipped["Thumbs.db"].startswith("not an image")
    assert sorted(data.corrections) == ["S02_M_pain2.jpeg: 'pain2' read as 'pain_2'",
                                        "sub/S02_M_friciton.png: 'friciton' read as 'friction'"]
    assert data.has_subjects


def test_folders_with_and_without_subjects(tmp_path):
    _touch(tmp_path, "pain/a.jpg", "pain/b.png", "calm/c.jpg", "stray.jpg", "calm/x/y/deep.jpg")
    data = load_data(tmp_path, "folders")
    assert sorted((s.path.name, s.label, s.subject) for s in data.samples) == [
        ("a.jpg", "pain", None), ("b.png", "pain", None), ("c.jpg", "calm", None)]
    assert {s.path.name for s in data.skipped} == {"stray.jpg", "deep.jpg"}
    assert not data.has_subjects
    _touch(tmp_path / "bysubject", "pain/S1/a.jpg", "calm/S1/b.jpg", "calm/S2/c.jpg")
    nested = load_data(tmp_path / "bysubject", "folders")
    assert nested.has_subjects and {s.subject for s in nested.samples} == {"S1", "S2"}


def test_csv_manifest(tmp_path):
    _touch(tmp_path, "img/a.jpg", "img/b.jpg", "img/c.txt")
    (tmp_path / "labels.csv").write_text(
        "path,label,subject\nimg/a.jpg,pain,baby1\nimg/b.jpg,rest,baby1\nimg/missing.jpg,pain,baby2\n"
        "img/c.txt,rest,baby2\nimg/a.jpg,,baby2\n")
    data = load_data(tmp_path, "csv")
    assert [(s.path.name, s.label, s.subject) for s in data.samples] == [
        ("a.jpg", "pain", "baby1"), ("b.jpg", "rest", "baby1")]
    assert [s.reason for s in data.skipped] == [
        "labels.csv line 4: file not found", "labels.csv line 5: not an image (.txt)",
        "labels.csv line 6: empty label"]
    assert load_data(tmp_path / "labels.csv", "csv").samples == data.samples
    (tmp_path / "labels.csv").write_text("file,class\nimg/a.jpg,pain\n")
    with pytest.raises(MonitorError, match="needs a header with columns path, label"):
        load_data(tmp_path, "csv")


def test_bad_data_folders_are_explained(tmp_path):
    with pytest.raises(MonitorError, match="data not found"):
        load_data(tmp_path / "nowhere", "cope")
    _touch(tmp_path / "empty", "readme.txt")
    with pytest.raises(MonitorError, match="no images"):
        load_data(tmp_path / "empty", "cope")
    _touch(tmp_path / "flat", "S01_F_pain_1.jpg", "S01_F_rest_1.jpg")
    with pytest.raises(MonitorError, match="is it --layout cope or csv"):
        load_data(tmp_path / "flat", "folders")
    _touch(tmp_path / "classes", "pain/a.jpg", "calm/b.jpg")
    with pytest.raises(MonitorError, match="is it --layout folders or csv"):
        load_data(tmp_path / "classes", "cope")


def test_pain_classes_are_a_setting_and_typos_in_them_are_refused(tmp_path):
    _touch(tmp_path, "S01_F_pain_1.jpg", "S01_F_rest_1.jpg", "S01_F_air_1.jpg", "S02_M_cry.jpg")
    data = load_data(tmp_path, "cope")
    default = binary_labels(data, ("pain", "pain_post_sucrose"))
    assert default.mapping == {"air": "no_pain", "cry": "no_pain", "pain": "pain", "rest": "no_pain"}
    assert int(default.y.sum()) == 1
    dropped = binary_labels(data, ("pain",), ("air", "cry"))
    assert dropped.mapping["air"] == "excluded" and len(dropped.samples) == 2
    crying_is_pain = binary_labels(data, ("pain", "cry"))
    assert int(crying_is_pain.y.sum()) == 2
    with pytest.raises(MonitorError, match=r"\['pian'\] match no label"):
        binary_labels(data, ("pian",))
    with pytest.raises(MonitorError, match="only one class"):
        binary_labels(data, ("pain",), ("rest", "air", "cry"))
    with pytest.raises(MonitorError, match="both pain and excluded"):
        binary_labels(data, ("pain",), ("pain",))


def test_folds_need_enough_subjects_and_images():
    y = np.array([0, 1] * 6)
    groups = np.repeat(["S1", "S2", "S3"], 4)
    with pytest.raises(MonitorError, match="needs at least 5 subjects, found 3"):
        outer_folds("subjects", y, groups, 5, 0)
    with pytest.raises(MonitorError, match="at least 7 images of each class"):
        outer_folds("random", y, groups, 7, 0)
    for train, test in outer_folds("subjects", y, groups, 3, 0):
        assert not set(groups[train]) & set(groups[test])
        inner, val = inner_split("subjects", y[train], groups[train], 0.2, 0)
        assert not set(groups[train][inner]) & set(groups[train][val])
    one_class_subjects = np.repeat(["S1", "S2", "S3", "S4"], 3)
    with pytest.raises(MonitorError, match="one class only"):
        outer_folds("subjects", np.repeat([0, 0, 1, 1], 3), one_class_subjects, 4, 0)
