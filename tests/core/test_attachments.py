import io

import pytest

from portal.core.attachments import check_upload, sniff, store_bytes
from portal.core.errors import DomainError
from tests.factories import PDF, make_project

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def test_type_is_read_from_content_not_name():
    assert sniff(PDF) == "pdf"
    assert sniff(EXE) is None
    assert sniff("整改报告".encode()) == "text"


def test_disguised_and_mismatched_files_are_refused(app):
    with app.app_context():
        with pytest.raises(DomainError, match="不受支持"):
            check_upload("审计报告.pdf", EXE)
        with pytest.raises(DomainError, match="不符"):
            check_upload("审计报告.docx", PDF)
        with pytest.raises(DomainError, match="空"):
            check_upload("a.pdf", b"")


def test_oversized_file_is_refused_with_the_limit_named(app):
    with app.app_context():
        with pytest.raises(DomainError, match="2 MB"):
            check_upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024))


def test_stored_by_hash_outside_static(db, world, app):
    project = make_project(world.department)
    attachment = store_bytes("说明.txt", "项目绩效说明".encode(), actor=world.unit, record=project)
    db.session.commit()
    assert attachment.path.read_bytes() == "项目绩效说明".encode()
    assert attachment.path.name == attachment.sha256
    assert "static" not in str(attachment.path)
    assert attachment.text == "项目绩效说明"


def test_download_follows_permission_on_the_linked_record(db, world, client, login):
    project = make_project(world.department)
    attachment = store_bytes("说明.txt", "内部资料".encode(), actor=world.unit, record=project)
    db.session.commit()
    login(world.other_unit)
    assert client.get(f"/files/{attachment.id}").status_code == 403
    client.post("/logout")
    login(world.subunit_user)  # a subordinate unit does not see its department's project
    assert client.get(f"/files/{attachment.id}").status_code == 403
    client.post("/logout")
    login(world.unit)
    response = client.get(f"/files/{attachment.id}")
    assert response.status_code == 200 and response.data == "内部资料".encode()
    assert client.get("/files/999999").status_code == 404


def test_oversized_request_gets_the_chinese_413_page(client, world, login):
    login(world.unit)
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))
    response = client.post("/tokens", data={"name": "x", "f": (big, "a.txt")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)
