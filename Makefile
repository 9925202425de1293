# lophoc: two commands from nothing.
#   make run   set up .venv, migrate the database and start the server (SQLite in ./data)
#   make test  set up .venv and the system packages tests need, then run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
ARGS   ?=
GROUPS_ARGS ?=
PYTEST_ARGS ?=

.PHONY: install install-test system-test-deps run test bench bench-fanout bench-recording bench-joins bench-groups bench-classroom bench-board bench-school bench-tests bench-ramp clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml setup.py constraints.txt $(wildcard sfu/*.c sfu/*.h)
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test system-test-deps

# Debian packages the tests start for real: Chromium (browser tests), Redis (event bus),
# PostgreSQL (the production database path), coturn (media relayed through TURN), GStreamer's
# WebRTC stack for Debian's python3 (a publisher written elsewhere, tests/outside/). Installed only
# when missing.
GST_TEST_DEBS = python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 \
	gir1.2-gst-plugins-bad-1.0 gir1.2-nice-0.1 gstreamer1.0-nice gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good gstreamer1.0-plugins-bad

system-test-deps:
	@missing=""; \
	for deb in $(GST_TEST_DEBS); do dpkg-query -W -f='$${Status}' $$deb 2>/dev/null | grep -q "ok installed" || missing="$$missing $$deb"; done; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v turnserver >/dev/null 2>&1 || missing="$$missing coturn"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: install
	$(PY) run_server.py $(ARGS)

test: install-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The forwarding benchmark (ARGS), then the groups scenario (GROUPS_ARGS; bench-groups alone takes ARGS),
# then the class's chat and a poll answered at once (CLASSROOM_ARGS), then the board's fan-out (BOARD_ARGS),
# then a school year's rolls imported and its timetable generated (SCHOOL_ARGS), then a class taking an
# online test at once (TESTS_ARGS).
bench: install
	$(PY) -m bench $(ARGS)
	$(PY) -m bench.groups $(GROUPS_ARGS)
	$(PY) -m bench.classroom $(CLASSROOM_ARGS)
	$(PY) -m bench.board $(BOARD_ARGS)
	$(PY) -m bench.school_admin $(SCHOOL_ARGS)
	$(PY) -m bench.online_test $(TESTS_ARGS)

bench-school: install
	$(PY) -m bench.school_admin $(ARGS)

bench-tests: install
	$(PY) -m bench.online_test $(ARGS)

bench-board: install
	$(PY) -m bench.board $(ARGS)

bench-fanout: install
	$(PY) -m bench.fanout $(ARGS)

bench-recording: install
	$(PY) -m bench.recording $(ARGS)

bench-joins: install
	$(PY) -m bench.joins $(ARGS)

bench-groups: install
	$(PY) -m bench.groups $(ARGS)

bench-classroom: install
	$(PY) -m bench.classroom $(ARGS)

# A Chromium publisher's video bitrate over its first 30 s, with REMB and with transport-cc.
bench-ramp: install
	$(PY) -m bench.ramp $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
