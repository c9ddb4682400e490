"""A path id longer than the database's integer is a 404 on both faces, not a 500."""
import pytest


@pytest.mark.parametrize("path", ["/ledger/99999999999999999999", "/inquiries/123456789012345678901234567890",
                                  "/ledger/2147483648", "/inquiries/3000000000",
                                  "/api/v1/projects/99999999999999999999", "/projects/99999999999999999999"])
def test_huge_ids_in_the_portal_are_404(client, login, world, path):
    login(world.finance)
    assert client.get(path).status_code == 404


def test_huge_ids_on_the_public_site_are_404(app):
    import public_site

    public = public_site.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                     "SECRET_KEY": "x"})
    client = public.test_client()
    for path in ("/projects/99999999999999999999", "/notices/99999999999999999999"):
        assert client.get(path).status_code == 404, path
