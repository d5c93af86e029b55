# lethe: build, test, install, bench.  `make` builds build/lethe.
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
PKGS = libcrypto libarchive inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS := $(shell pkg-config --libs check)
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) $(CFLAGS) $(INC) $(PKG_CFLAGS)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# agent/ is one folder per stage (README, "Architecture"); objects are
# named by file alone (basenames are unique), so build/obj/err.o stays put.
AGENT_DIRS := agent $(patsubst %/,%,$(sort $(dir $(wildcard agent/*/*.c))))
SRC := $(sort $(wildcard agent/*.c agent/*/*.c))
HDRS := $(wildcard agent/*.h agent/*/*.h)
LIBSRC := $(filter-out agent/main.c,$(SRC))
INC := -iquote agent
vpath %.c $(AGENT_DIRS)
OBJ := $(patsubst %.c,build/obj/%.o,$(notdir $(SRC)))
SANOBJ := $(patsubst %.c,build/san/%.o,$(notdir $(SRC)))
SANLIBOBJ := $(patsubst %.c,build/san/%.o,$(notdir $(LIBSRC)))
TESTSRC := $(sort $(wildcard tests/check_*.c))
TESTS := $(TESTSRC:tests/%.c=build/tests/%)

.PHONY: all check unit e2e forensic install bench demo clean
all: build/lethe

build/lethe: $(OBJ)
	@echo "  LD      $@"; $(CC) $(ALL_CFLAGS) -o $@ $(OBJ) $(PKG_LIBS)

build/obj/%.o: %.c $(HDRS) VERSION | build/obj
	@echo "  CC      $<"; $(CC) $(ALL_CFLAGS) -DLETHE_VERSION='"$(VERSION)"' -c -o $@ $<

# The sanitized build: unit tests link it, and e2e/forensic tests drive
# build/san/lethe so every end-to-end path runs under ASan and UBSan too.
build/san/%.o: %.c $(HDRS) VERSION | build/san
	@echo "  CC san  $<"; $(CC) $(ALL_CFLAGS) $(SAN) -O1 -DLETHE_VERSION='"$(VERSION)"' -c -o $@ $<

build/san/lethe: $(SANOBJ)
	@echo "  LD san  $@"; $(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(SANOBJ) $(PKG_LIBS)

build/tests/%: tests/%.c $(SANLIBOBJ) tests/testutil.h | build/tests
	@echo "  LD test $@"; $(CC) $(ALL_CFLAGS) $(SAN) $(CHECK_CFLAGS) -o $@ $< $(SANLIBOBJ) $(PKG_LIBS) $(CHECK_LIBS)

build/obj build/san build/tests:
	mkdir -p $@

check: all build/san/lethe $(TESTS)
	@tests/run-all $(TESTS)

unit: $(TESTS)
	@tests/run-all --unit $(TESTS)

e2e: all build/san/lethe
	@tests/run-all --e2e

forensic: all build/san/lethe
	@tests/run-all --forensic

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(PREFIX)/share/lethe
	install -m 0755 build/lethe $(DESTDIR)$(PREFIX)/bin/lethe
	install -m 0755 certs/mkca $(DESTDIR)$(PREFIX)/bin/lethe-mkca
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	rm -rf $(DESTDIR)$(PREFIX)/share/lethe/policies
	cp -R policies $(DESTDIR)$(PREFIX)/share/lethe/policies

bench: all
	@bench/run

demo: all
	build/lethe demo

clean:
	rm -rf build
include tests/fuzz/fuzz.mk
