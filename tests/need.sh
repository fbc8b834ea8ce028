# tests/need.sh — sourced by the shell tests (tests/t_*.sh): what to do when
# a tool a test uses is missing. Outside `make check` the test is skipped with
# exit 77, which ctest shows as a skip (SKIP_RETURN_CODE, CMakeLists.txt).
# Under `make check` (FINFEED_REQUIRE_ALL=1, set by the Makefile) it is a
# failure: make check installs every tool (scripts/install-deps), and a test
# that did not run never passes.
#
# usage: need TEST "WHAT (package P)"    — call it when WHAT is missing
need() {
    if [ "${FINFEED_REQUIRE_ALL:-0}" != 0 ]; then
        echo "$1: FAIL: $2 is missing; make check runs every test" \
            "(scripts/install-deps installs the tools)" >&2
        exit 1
    fi
    echo "$1: SKIP: $2 is missing"
    exit 77
}
