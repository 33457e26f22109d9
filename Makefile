# schemakit - PGXS build.  `make`, `make install`, `make installcheck` work
# the PGXS way; `test/run` runs every suite in a throwaway cluster.
EXTENSION   = schemakit
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big  = schemakit
CORE_SRCS   = $(sort $(wildcard src/core/*.c))
OBJS        = $(CORE_SRCS:.c=.o) $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA        = $(sort $(wildcard sql/$(EXTENSION)--*.sql))
PG_CPPFLAGS = -I$(srcdir)/src
# -Wextra minus unused-parameter: PostgreSQL's own headers (bufpage.h via guc.h)
# and every fmgr/GUC callback signature have parameters a function may not use.
PG_CFLAGS   = -std=gnu99 -Wall -Wextra -Werror -Wno-unused-parameter

# pg_regress: inputs in test/sql, expected outputs in the top-level expected/.
# Up to PG 15 pg_regress looks for expected files in the output directory
# (here, the top level) first; PG 16 added --expecteddir for the same.
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

ifeq ($(shell test $(VERSION_NUM) -ge 160000 2>/dev/null && echo yes),yes)
REGRESS_OPTS += --expecteddir=.
endif

# Only what the server looks up by name is exported (src/compat.h): PGXS
# builds modules with -fvisibility=hidden since 16; before 16, so does this.
ifneq ($(shell test $(VERSION_NUM) -ge 160000 2>/dev/null && echo yes),yes)
ifeq ($(GCC),yes)
override CFLAGS += -fvisibility=hidden
endif
endif

EXTRA_CLEAN += results regression.diffs regression.out test/unit/build

# C core: unit tests under sanitizers, and bounded libFuzzer runs.
.PHONY: unit fuzz check-exports
unit:
	$(MAKE) -C test/unit run
fuzz:
	$(MAKE) -C test/unit fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

# The library exports only what the server looks up by name (no server needed).
check-exports: all
	SK_SO=$(CURDIR)/$(MODULE_big)$(DLSUFFIX) bash test/scripts/09-exports.sh

# PGXN release: schemakit-<META.json version>.zip of the committed tree (HEAD;
# uncommitted changes are not included), without the CI entry point.
DISTVERSION = $(shell perl -MJSON::PP -0777 -ne 'print decode_json($$_)->{version}' META.json)
.PHONY: dist
dist:
	git archive --format zip --prefix $(EXTENSION)-$(DISTVERSION)/ \
	    -o $(EXTENSION)-$(DISTVERSION).zip HEAD -- . ':(exclude).ci' ':(exclude)test/unit/build'

# Benchmarks against the alternatives apps use today (bench/RESULTS.md).
.PHONY: bench
bench:
	bash bench/run
