"""Where users start: login and logout, the home page that sends each one to their work,
the hall page, the language switch."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from queueing import services
from tests.conftest import login
from tests.factories import make_user


def test_it_sends_anonymous_visitors_to_login(city):
    for path in ("/", "/halls/h1/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_shows_a_bilingual_login_page(city):
    body = Client().get("/accounts/login/").content.decode()
    assert "登录" in body and "用户名" in body and 'lang="zh-Hans"' in body
    client = Client()
    client.cookies["django_language"] = "en"
    body = client.get("/accounts/login/").content.decode()
    assert "Log in" in body and "Username" in body


def test_it_logs_in_and_sends_the_user_home(city):
    response = Client().post("/accounts/login/", {"username": "bob", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_refuses_a_wrong_password_with_a_message(city):
    response = Client().post("/accounts/login/", {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_it_logs_out_by_post(city):
    client = login(city.bob)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_it_sends_a_kiosk_device_to_its_kiosk(city):
    response = login(city.kiosk1).get("/")
    assert response.status_code == 302 and response["Location"] == "/halls/h1/kiosk/"


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [("alice", "/halls/h1/board/"), ("carol", "/halls/h1/tablet/"), ("dave", "/overview/")],
)
def test_each_persona_lands_on_their_screen(city, who, lands_on):
    response = login(getattr(city, who)).get("/")
    assert response.status_code == 302 and response["Location"] == lands_on


def test_a_clerk_without_a_window_chooses_one_on_the_hall_page(city):
    response = login(city.bob).get("/")
    assert response.status_code == 302 and response["Location"] == "/halls/h1/"


def test_a_clerk_with_one_window_lands_on_its_console(city):
    services.window_open(window=city.w2, clerk=city.bob)
    response = login(city.bob).get("/")
    assert response.status_code == 302 and response["Location"] == f"/windows/{city.w2.pk}/console/"


def test_it_lists_a_director_s_halls_on_the_overview(city):
    assert login(city.dave).get("/")["Location"] == "/overview/"


def test_it_lists_every_hall_for_a_superuser(city):
    admin = User.objects.create_superuser("root", password="pw")
    body = login(admin).get("/").content.decode()
    assert 'href="/halls/h1/"' in body and 'href="/halls/h2/"' in body


def test_it_explains_the_empty_state_to_a_user_without_a_role(city):
    nobody = make_user("nobody")
    response = login(nobody).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "没有角色" in body and "nobody" in body


def test_it_lets_a_clerk_pick_a_window(city):
    body = login(city.bob).get("/halls/h1/").content.decode()
    for window in (city.w1, city.w2, city.w3):
        assert f'href="/windows/{window.pk}/console/"' in body
    assert 'href="/halls/h1/display/"' in body
    assert 'href="/halls/h1/kiosk/"' not in body  # not a kiosk role


def test_it_gives_a_manager_every_screen_of_the_hall(city):
    body = login(city.alice).get("/halls/h1/").content.decode()
    assert f'href="/windows/{city.w1.pk}/console/"' in body
    assert 'href="/halls/h1/kiosk/"' in body and 'href="/halls/h1/display/"' in body


def test_it_shows_floor_staff_and_directors_the_hall_without_consoles(city):
    for user in (city.carol, city.dave):
        response = login(user).get("/halls/h1/")
        assert response.status_code == 200
        assert "/console/" not in response.content.decode()


def test_it_shows_what_each_window_holds(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w2)
    body = login(city.alice).get("/halls/h1/").content.decode()
    assert "A001" in body and "已叫号" in body


def test_it_refuses_the_hall_page_to_another_hall_s_staff(city):
    assert login(city.eve).get("/halls/h1/").status_code == 403


def test_it_switches_the_language_to_english_and_back(city):
    client = login(city.alice)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/halls/h1/"})
    assert response.status_code == 302 and response["Location"] == "/halls/h1/"
    body = client.get("/halls/h1/").content.decode()
    assert "First Hall" in body and "Choose your window" in body and "Pensions" in body
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/halls/h1/"})
    body = client.get("/halls/h1/").content.decode()
    assert "第一服务大厅" in body and "选择您的窗口" in body


@pytest.mark.parametrize("waiting", [5, 50])
def test_it_renders_the_hall_page_in_a_fixed_number_of_queries(
    city, waiting, django_assert_max_num_queries
):
    for _ in range(waiting):
        services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w1)
    client = login(city.alice)
    with django_assert_max_num_queries(10):
        assert client.get("/halls/h1/").status_code == 200


def test_it_refreshes_only_the_hall_board_on_a_live_update(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    response = login(city.alice).get(
        "/halls/h1/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="hall-board"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="hall-board"') and body.count('id="hall-board"') == 1
    assert "<header" not in body and "<html" not in body and "1 人等候" in body


def test_password_reset_is_not_served_without_a_mail_server(city):
    # no EMAIL_HOST in the test settings: a reset form would send nothing
    assert Client().get("/accounts/password_reset/").status_code == 404
    assert Client().post("/accounts/password_reset/", {"email": "a@b.c"}).status_code == 404
    assert login(city.bob).get("/accounts/password_change/").status_code == 200


def test_password_reset_is_served_once_a_mail_server_is_set():
    from tests.test_settings import PRODUCTION, start

    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'hall_ops.settings';"
        " django.setup(); from django.urls import reverse; print(reverse('password_reset'))"
    )
    result = start({**PRODUCTION, "EMAIL_HOST": "smtp.example.gov.cn"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "/accounts/password_reset/"
