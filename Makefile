# vabot: answers Russian questions about video statistics with one number.
#
#   make            build build/vabot
#   make run        install what is missing, build, start the private database, chat or serve
#   make test       everything CI checks; the last line is "N passed, N failed"
#   make SAN=1      AddressSanitizer + UBSan build under build/san
#   make bench      figures and ratios (never part of make test)
#   make fuzz       libFuzzer targets for a bounded time
#   make stop       stop the private PostgreSQL cluster under ./var

CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
PKGS      = libcurl libcjson libpq libpcre2-8
# Lazily expanded: `make deps` may have just installed pkg-config and the -dev packages.
PKGCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lstemmer -lpthread -lm
BUILD    ?= build

ifeq ($(SAN),1)
CFLAGS   += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
BUILD     = build/san
endif

# ==== libFuzzer (FUZZ=1): instrumented objects in one archive for tests/fuzz/run.sh ====
ifeq ($(FUZZ),1)
CC        = clang
CFLAGS   += -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=all
BUILD     = build/fuzz
endif

SRC      := $(wildcard src/*.c)
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o)
LIBOBJ   := $(filter-out $(BUILD)/obj/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BIN       = $(BUILD)/vabot

.PHONY: all deps deps-test run stop test check unit banned bench bench-sharded fuzz clean

all: $(BIN)

# V=1 shows the full commands.
Q = $(if $(V),,@)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(PKGCFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(OBJ)
	@$(if $(V),,echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/testhelp.h $(LIBOBJ)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(CPPFLAGS) $(PKGCFLAGS) -Isrc -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(PKGLIBS)

unit: $(UNIT_BIN)

# Everything but main, for the fuzz targets: each links only what it uses.
$(BUILD)/libvabot.a: $(LIBOBJ)
	@$(if $(V),,echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# ==== bench helpers: tools under bench/ linked like the unit tests (never part of test) ====
$(BUILD)/bench/%: bench/%.c $(LIBOBJ)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(CPPFLAGS) $(PKGCFLAGS) -Isrc $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(PKGLIBS)

-include $(OBJ:.o=.d)

deps:
	@scripts/deps.sh

deps-test:
	@scripts/deps.sh test

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

stop:
	@scripts/pg.sh stop var

# CI entry point: install, build both variants, then one runner for every suite.
test: deps-test
	@$(MAKE) --no-print-directory banned all unit
	@$(MAKE) --no-print-directory SAN=1 all unit
	@tests/run.sh

check: all unit
	@tests/run.sh

BANNED = sprintf|vsprintf|strcpy|strncpy|strcat|strncat|gets|atoi|atol|atof|strtok
banned:
	@! grep -nE '\b($(BANNED))[[:space:]]*\(' src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c 2>/dev/null \
	  || { echo "banned functions used (see above)"; exit 1; }

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(BUILD)/bench/qbench $(BUILD)/bench/bench_rules
	@bench/run.sh

bench-sharded:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(BUILD)/bench/qbench
	@bench/sharded.sh

fuzz: deps-test
	@tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

clean:
	rm -rf build
