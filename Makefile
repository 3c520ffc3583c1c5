# pushpull build: one Makefile for the server, the clients, the tests and the fuzzers.
#
#   make            release binaries in bin/
#   make test       sanitizer (ASan+UBSan) build of everything, then tests/run.sh (the
#                   fuzzers too: tests/fuzz_check.sh runs each for FUZZ_SECONDS, 25)
#   make fuzz       libFuzzer harnesses in build/fuzz/ (needs clang)
#   make format     clang-format every C file in place
#   make clean
#
# Objects go to build/<flavour>/ mirroring the source tree; -MMD -MP keeps header
# dependencies exact. Each program folder's objects (minus its main.c) are archived so a
# test links only what it uses.

CC      ?= cc
PKGS    := libmicrohttpd libcjson libcurl libcrypto libssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# WebSocket framing. Debian 12's libwslay-dev ships no pkg-config file (only CMake's), so
# ask pkg-config first and fall back to the library's name.
WSLAY_LIBS := $(shell pkg-config --libs libwslay 2>/dev/null || echo -lwslay)

# hiredis, for the feed through Redis (servers/redis_*.c)
PKG_CFLAGS += $(shell pkg-config --cflags hiredis 2>/dev/null)
PKG_LIBS   += $(shell pkg-config --libs hiredis 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifdef CI
WARN    += -Werror
endif
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -Icommon -MMD -MP $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) $(WSLAY_LIBS) -lpthread -lm

REL_CFLAGS  := $(CFLAGS_BASE) -I. -O2 -g
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# The test build always treats warnings as errors; the release build does under CI.
ASAN_CFLAGS := $(CFLAGS_BASE) -Werror -I. -O1 -g $(SAN_FLAGS)

COMMON_SRC := $(wildcard common/*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz_*.c)
TSUP_SRC   := $(filter-out $(TEST_SRC) $(FUZZ_SRC),$(wildcard tests/*.c))

# One folder per program: DIR/main.c is the entry point of bin/pushpull-NAME and every
# other file of DIR goes into DIR's archive (build/<flavour>/libDIR.a), which the tests
# link against. PROG_<dir> names the program; USES_<dir> lists other program folders
# whose archives it also links (the test service runs the client's EventSource code).
PROG_DIRS      := servers clients lab link testservice bench
PROG_servers   := server
PROG_clients   := client
PROG_lab       := lab
PROG_link      := link
PROG_testservice := sse-testservice
PROG_bench     := bench
USES_testservice := clients
$(foreach d,$(PROG_DIRS),$(eval SRC_$(d) := $(filter-out $(d)/main.c,$(wildcard $(d)/*.c))))
PROGS      := $(foreach d,$(PROG_DIRS),bin/pushpull-$(PROG_$(d))) bin/pushpull-fanout bin/pushpull-linkbench

all: $(PROGS)

build/%/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int pushpull_empty_unit;' | $(CC) -x c -c - -o $@

# Objects, archives and programs, in both flavours: rel (bin/) and asan (build/asan/bin/).
build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@
build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

define flavour
build/$(1)/libcommon.a: $$(COMMON_SRC:%.c=build/$(1)/%.o)
	@rm -f $$@; ar rcs $$@ $$^
endef
$(foreach f,rel asan,$(eval $(call flavour,$(f))))

define program
build/rel/lib$(1).a: $$(SRC_$(1):%.c=build/rel/%.o) build/rel/empty.o
	@rm -f $$@; ar rcs $$@ $$(SRC_$(1):%.c=build/rel/%.o) build/rel/empty.o
build/asan/lib$(1).a: $$(SRC_$(1):%.c=build/asan/%.o) build/asan/empty.o
	@rm -f $$@; ar rcs $$@ $$(SRC_$(1):%.c=build/asan/%.o) build/asan/empty.o
bin/pushpull-$$(PROG_$(1)): build/rel/$(1)/main.o build/rel/lib$(1).a $$(USES_$(1):%=build/rel/lib%.a) build/rel/libcommon.a
	@mkdir -p bin
	$$(CC) $$(REL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
build/asan/bin/pushpull-$$(PROG_$(1)): build/asan/$(1)/main.o build/asan/lib$(1).a $$(USES_$(1):%=build/asan/lib%.a) build/asan/libcommon.a
	@mkdir -p build/asan/bin
	$$(CC) $$(ASAN_CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(PROG_DIRS),$(eval $(call program,$(d))))

# the server alone under one publish to N held streams, polls and WebSockets (tests/bench/fanout.c)
bin/pushpull-fanout: build/rel/tests/bench/fanout.o build/rel/tests/harness.o build/rel/libcommon.a
	@mkdir -p bin
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)
bin/pushpull-linkbench: build/rel/tests/bench/link_accuracy.o build/rel/tests/link_harness.o build/rel/tests/harness.o build/rel/libcommon.a
	@mkdir -p bin
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

# ---- sanitizer build and tests ------------------------------------------
build/asan/libtestsupport.a: $(TSUP_SRC:%.c=build/asan/%.o) build/asan/empty.o
	@rm -f $@; ar rcs $@ $^

TEST_LIBS := build/asan/libtestsupport.a $(PROG_DIRS:%=build/asan/lib%.a) build/asan/libcommon.a
build/asan/tests/%: build/asan/tests/%.o $(TEST_LIBS)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

TEST_BINS := $(TEST_SRC:tests/%.c=build/asan/tests/%)
ASAN_PROGS := $(foreach d,$(PROG_DIRS),build/asan/bin/pushpull-$(PROG_$(d)))

test-build: $(TEST_BINS) $(ASAN_PROGS) $(PROGS) fuzz
test: test-build
	tests/run.sh --beside tests/fuzz_check.sh tests/format_check.sh $(TEST_BINS) \
		tests/browser/node_tests.sh

# ---- fuzzing (clang + libFuzzer) ---------------------------------------
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Icommon -I. -g -O1 -fsanitize=fuzzer,address,undefined
# The server's harness runs the real daemon in-process: it links the server's files too.
build/fuzz/fuzz_server: tests/fuzz_server.c $(SRC_servers) $(COMMON_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -Iservers $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) $(WSLAY_LIBS) -lpthread -lm
build/fuzz/%: tests/%.c $(COMMON_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) $(WSLAY_LIBS) -lm
# the scenario loader is the lab's; the WebSocket handshake parser and the HTTP response
# reader the client's (the handshake parser reads header lists with the reader's
# http_list_has); the reference client's parsers the bench's
build/fuzz/fuzz_scenario: $(SRC_lab)
build/fuzz/fuzz_ws_handshake: clients/ws_handshake.c clients/http_reader.c
build/fuzz/fuzz_http_reader: clients/http_reader.c
build/fuzz/fuzz_bench_parsers: bench/http_resp.c bench/ws_frame.c bench/update_scan.c \
                             bench/floor_req.c
fuzz: $(FUZZ_SRC:tests/%.c=build/fuzz/%)

FORMAT_SRC = $(wildcard common/*.[ch] $(PROG_DIRS:%=%/*.[ch]) tests/*.[ch] tests/bench/*.c)
format:
	clang-format -i $(FORMAT_SRC)
format-list:
	@printf '%s\n' $(FORMAT_SRC)

clean:
	rm -rf build bin

.PHONY: all test test-build fuzz format format-list clean
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
