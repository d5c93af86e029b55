# tests/fuzz/fuzz.mk: libFuzzer targets for lethe's parsers (SPEC §2).
#
#   make -f Makefile -f tests/fuzz/fuzz.mk fuzz        builds build/fuzz/fuzz_*
#   make -f Makefile -f tests/fuzz/fuzz.mk fuzz-smoke  runs each for
#       $(FUZZ_SECONDS) seconds (default 20) over tests/fuzz/corpus/NAME
#
# or, once the Makefile has `include tests/fuzz/fuzz.mk`, `make fuzz` and
# `make fuzz-smoke`.  Including it twice is harmless.  Needs clang with
# libFuzzer (FUZZ_CC); the agent is built again here with
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj.
ifndef LETHE_FUZZ_MK
LETHE_FUZZ_MK := 1

# Standalone use (make -f tests/fuzz/fuzz.mk): the Makefile's variables.
ifndef PKG_LIBS
PKGS := libcrypto libarchive inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
	-Wno-format-nonliteral
LIBSRC := $(filter-out agent/main.c,$(sort $(wildcard agent/*.c agent/*/*.c)))
AGENT_DIRS := agent $(patsubst %/,%,$(sort $(dir $(wildcard agent/*/*.c))))
INC := -iquote agent
vpath %.c $(AGENT_DIRS)
endif

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_BASE = -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O1 -g \
	$(FUZZ_SAN) $(INC) $(PKG_CFLAGS)
# Agent code is others' work in progress: a clang-only warning there must
# not stop the fuzzers from building (gcc's -Werror build still guards it).
FUZZ_AGENT_CFLAGS = $(FUZZ_BASE) $(filter-out -Werror,$(WARN)) \
	-fsanitize=fuzzer-no-link
FUZZ_TARGET_CFLAGS = $(FUZZ_BASE) $(WARN) -iquote agent -iquote tests/fuzz \
	-fsanitize=fuzzer

FUZZ_NAMES := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS := $(FUZZ_NAMES:%=build/fuzz/%)
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(notdir $(LIBSRC)))

.PHONY: fuzz fuzz-smoke
# Kept: the fuzz_% pattern rule would otherwise delete them as intermediates.
.SECONDARY: $(FUZZ_OBJ)
fuzz: $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/smoke.sh $(FUZZ_NAMES)

build/fuzz/obj/%.o: %.c $(wildcard agent/*.h agent/*/*.h) VERSION | build/fuzz/obj
	@echo "  CC fuzz $<"; $(FUZZ_CC) $(FUZZ_AGENT_CFLAGS) \
	    -DLETHE_VERSION='"$(VERSION)"' -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_OBJ) \
    | build/fuzz/obj
	@echo "  LD fuzz $@"; $(FUZZ_CC) $(FUZZ_TARGET_CFLAGS) -o $@ $< \
	    $(FUZZ_OBJ) $(PKG_LIBS)

# Writes the sealed seeds of tests/fuzz/corpus/unseal (not a fuzz target).
build/fuzz/gen_sealed: tests/fuzz/gen_sealed.c $(FUZZ_OBJ) | build/fuzz/obj
	@echo "  LD fuzz $@"; $(FUZZ_CC) $(FUZZ_BASE) $(WARN) -iquote agent \
	    -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

build/fuzz/obj:
	mkdir -p $@

endif
