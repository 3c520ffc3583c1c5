# pushpull build: one Makefile for the server, the clients, the tests and the fuzzers.
#
#   make            release binaries in bin/
#   make test       sanitizer (ASan+UBSan) build of everything, then tests/run.sh
#   make fuzz       libFuzzer harnesses in build/fuzz/ (needs clang)
#   make format     clang-format every C file in place
#   make clean
#
# Objects go to build/<flavour>/ mirroring the source tree; -MMD -MP keeps header
# dependencies exact. Each directory's objects (minus its main.c) are archived so a test
# links only what it uses.

CC      ?= cc
PKGS    := libmicrohttpd libcjson libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifdef CI
WARN    += -Werror
endif
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -Icommon -MMD -MP $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lpthread -lm

REL_CFLAGS  := $(CFLAGS_BASE) -I. -O2 -g
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS := $(CFLAGS_BASE) -I. -O1 -g $(SAN_FLAGS)

COMMON_SRC := $(wildcard common/*.c)
SERVER_SRC := $(wildcard servers/*.c)
CLIENT_SRC := $(wildcard clients/*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
TSUP_SRC   := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

# Programs: a file named main.c or *_main.c is an entry point; every other file of its
# directory goes into that directory's archive. servers/main.c is pushpull-server,
# servers/link_main.c would be pushpull-link, clients/main.c is pushpull-client,
# clients/lab_main.c is pushpull-lab (underscores become hyphens: sse_testservice_main.c
# is pushpull-sse-testservice).
MAIN_SRC   := $(filter %main.c,$(SERVER_SRC) $(CLIENT_SRC))
SERVER_LIB := $(filter-out %main.c,$(SERVER_SRC))
CLIENT_LIB := $(filter-out %main.c,$(CLIENT_SRC))
prog_name   = pushpull-$(if $(filter main,$(1)),$(if $(findstring servers/,$(2)),server,client),$(subst _,-,$(1:%_main=%)))
PROG_NAMES := $(foreach m,$(MAIN_SRC),$(call prog_name,$(basename $(notdir $(m))),$(m)))
PROGS      := $(addprefix bin/,$(PROG_NAMES)) bin/pushpull-bench bin/pushpull-linkbench

all: $(PROGS)

# ---- release build -------------------------------------------------------
build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@

build/rel/libcommon.a: $(COMMON_SRC:%.c=build/rel/%.o)
	@rm -f $@; ar rcs $@ $^
build/rel/libserver.a: $(SERVER_LIB:%.c=build/rel/%.o) build/rel/empty.o
	@rm -f $@; ar rcs $@ $^
build/rel/libclient.a: $(CLIENT_LIB:%.c=build/rel/%.o) build/rel/empty.o
	@rm -f $@; ar rcs $@ $^
build/%/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int pushpull_empty_unit;' | $(CC) -x c -c - -o $@

# One link rule per entry point, in both flavours.
define program
bin/$(call prog_name,$(basename $(notdir $(1))),$(1)): build/rel/$(1:.c=.o) build/rel/lib$(if $(findstring servers/,$(1)),server,client).a build/rel/libcommon.a
	@mkdir -p bin
	$$(CC) $$(REL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
build/asan/bin/$(call prog_name,$(basename $(notdir $(1))),$(1)): build/asan/$(1:.c=.o) build/asan/lib$(if $(findstring servers/,$(1)),server,client).a build/asan/libcommon.a
	@mkdir -p build/asan/bin
	$$(CC) $$(ASAN_CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach m,$(MAIN_SRC),$(eval $(call program,$(m))))

bin/pushpull-bench: build/rel/tests/bench/fanout.o build/rel/tests/harness.o build/rel/libcommon.a
	@mkdir -p bin
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)
bin/pushpull-linkbench: build/rel/tests/bench/link_accuracy.o build/rel/tests/link_harness.o build/rel/tests/harness.o build/rel/libcommon.a
	@mkdir -p bin
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

# ---- sanitizer build and tests ------------------------------------------
build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

build/asan/libcommon.a: $(COMMON_SRC:%.c=build/asan/%.o)
	@rm -f $@; ar rcs $@ $^
build/asan/libserver.a: $(SERVER_LIB:%.c=build/asan/%.o) build/asan/empty.o
	@rm -f $@; ar rcs $@ $^
build/asan/libclient.a: $(CLIENT_LIB:%.c=build/asan/%.o) build/asan/empty.o
	@rm -f $@; ar rcs $@ $^
build/asan/libtestsupport.a: $(TSUP_SRC:%.c=build/asan/%.o) build/asan/empty.o
	@rm -f $@; ar rcs $@ $^

TEST_LIBS := build/asan/libtestsupport.a build/asan/libserver.a build/asan/libclient.a build/asan/libcommon.a
build/asan/tests/%: build/asan/tests/%.o $(TEST_LIBS)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

TEST_BINS := $(TEST_SRC:tests/%.c=build/asan/tests/%)
ASAN_PROGS := $(filter-out build/asan/bin/pushpull-bench build/asan/bin/pushpull-linkbench,$(PROGS:bin/%=build/asan/bin/%))

test-build: $(TEST_BINS) $(ASAN_PROGS) $(PROGS)
test: test-build
	tests/run.sh $(TEST_BINS) tests/browser/node_tests.sh

# ---- fuzzing (clang + libFuzzer) ---------------------------------------
FUZZ_SRC := $(wildcard tests/fuzz_*.c)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Icommon -g -O1 -fsanitize=fuzzer,address,undefined
build/fuzz/%: tests/%.c $(COMMON_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm
fuzz: $(FUZZ_SRC:tests/%.c=build/fuzz/%)

format:
	clang-format -i $(COMMON_SRC) $(SERVER_SRC) $(CLIENT_SRC) $(wildcard common/*.h servers/*.h clients/*.h tests/*.c tests/*.h)

clean:
	rm -rf build bin

.PHONY: all test test-build fuzz format clean
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
