# luksinit: a static musl /init for a LUKS-encrypted, multi-device Btrfs root.
#
#   make            static /init, test kernel with the initramfs embedded
#   make DEPS=system   (or DEPS=/prefix) /init alone, against your own static
#                   libraries (docs/BUILDING.md: "Your own libraries")
#   make install    /init, its initramfs.list, host tools, man pages
#                   (PREFIX=/usr/local, DESTDIR=); make uninstall
#   make demo       all of that, then boot the demo in QEMU (interactive)
#   make check      unit tests (ASan+UBSan) and QEMU boot tests
#   make unit       unit tests only
#   make update-deps-lock   pin the newest Debian source versions the mirror
#                   serves in scripts/deps.lock (deliberate; review, commit)
#
# Expensive builds (static libraries, kernel) are cached outside the clone in
# $(LUKSINIT_CACHE), keyed by a hash of their recipe (for the libraries:
# including the source versions pinned in scripts/deps.lock).

# A failing step inside a pipe must fail the recipe.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

BUILD ?= build
export LUKSINIT_CACHE ?= /var/cache/luksinit
B := $(abspath $(BUILD))

CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla
# /init: the boot (init/*.c) and its folders, plus the code shared with
# luksinit-enroll (common/). Includes name the folder ("luks/luks.h",
# "common/secret.h"); tests/include-rules.txt says which folder may
# include which.
SRCS := $(wildcard init/*.c init/*/*.c common/*.c)
OBJS := $(patsubst %.c,$(B)/obj/%.o,$(SRCS))
HDRS := $(wildcard init/*.h init/*/*.h common/*.h)
INC := -Iinit -I.

# Pure parts: no I/O beyond what a test can redirect; unit-tested on the host.
PURE := init/config/cmdline.c init/config/cmdline_luks.c \
	init/config/cmdline_header.c init/config/devspec.c init/base/strutil.c \
	init/config/mountopts.c init/base/uevent.c init/base/log.c \
	init/firmware/fwpath.c init/firmware/fwreader.c init/devices/btrfssb.c \
	init/handover/initcheck.c init/firmware/fwpolicy.c init/waitpolicy.c \
	common/derive.c common/dtoken.c init/luks/derivedpolicy.c \
	init/luks/lukskeys.c init/console/keymap.c init/base/clock.c \
	init/base/file.c init/base/failure.c common/io.c common/secret.c \
	init/tpm2/tpm2codec.c init/tpm2/tpm2token.c init/luks/pwcache.c
# Parts that read and write sysfs: unit-tested against a fake tree in a
# temporary directory (init/base/sysroot.h). With them the LUKS members'
# bookkeeping (luksmembers.c: it asks keydev.c, so not among the pure).
SYSFS := init/firmware/firmware.c init/firmware/fwreprobe.c init/base/knob.c \
	init/base/kmsg.c init/base/rundir.c \
	init/devices/devices.c init/base/sysmounts.c init/base/sysroot.c \
	init/console/consoles.c init/console/kmsghold.c init/handover/resume.c \
	init/console/prompt.c init/luks/keydev.c init/luks/lukshdr.c \
	init/luks/stickmount.c init/luks/luksmembers.c init/remote/session.c \
	init/remote/client.c
# The unit binary's stand-ins (tests/unit/test_prompt.c, test_keydev.c,
# test_kmsghold.c): the kernel-message hold sets the host's console log
# level, so the prompt's tests replace it, and its own test replaces
# /dev/kmsg and that knob (open, lseek, knob_console_level/knob_write pass everything
# else through); mlock and munmap are watched (ASan makes mlock a no-op;
# a secret must be zero when unmapped); mount and
# umount2 are watched and bind a directory as the key stick, whose
# read-only flag and Btrfs registration ioctl keeps (passing the rest on).
UNIT_WRAP := -Wl,--wrap=kmsg_hold_start -Wl,--wrap=kmsg_hold_end \
	-Wl,--wrap=mlock -Wl,--wrap=munmap -Wl,--wrap=mount -Wl,--wrap=umount2 \
	-Wl,--wrap=open -Wl,--wrap=lseek -Wl,--wrap=knob_console_level \
	-Wl,--wrap=knob_write -Wl,--wrap=ioctl
# The job mechanism: forks real children, driven by the test itself.
JOBS := init/loop/job.c init/loop/jobchild.c init/loop/loop.c init/base/reaper.c \
	init/devices/btrfsscan.c init/devices/btrfs.c init/devices/identify.c
UNIT_SRCS := $(wildcard tests/unit/*.c)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all

DEPS_PREFIX = $(shell cat $(B)/deps.prefix)
MUSL_CC = $(DEPS_PREFIX)/bin/musl-cc

# Where /init's static libraries come from:
#   DEPS unset     built from the pinned Debian sources (scripts/build-deps.sh);
#                  /init is compiled with that prefix's musl-cc
#   DEPS=system    the host's pkg-config, as the environment sets it up
#                  (Gentoo with USE=static-libs, Alpine's *-static packages)
#   DEPS=/prefix   a prefix with lib/pkgconfig/*.pc (or lib64/, share/)
# With DEPS set, CC= is the compiler of /init (musl-gcc, or gcc for a static
# glibc build), CPPFLAGS= and LDFLAGS= are passed on, and only /init is
# built (the test kernel and the tests need Debian's sources).
# DEPS is taken from make's command line only: a variable of that common
# name exported for something else must not switch the build.
ifeq ($(origin DEPS),environment)
DEPS :=
endif
DEPS ?=
PKG_CONFIG ?= pkg-config
MIMALLOC ?= auto
STRIP ?= strip
ifeq ($(DEPS),)
DEPS_ENV = INIT_CC="$(MUSL_CC)" PKG_CONFIG_LIBDIR=$(DEPS_PREFIX)/lib/pkgconfig \
	PKG_CONFIG_PATH=
DEPS_PRE := $(B)/deps.prefix
else ifeq ($(DEPS),system)
DEPS_ENV = INIT_CC="$(CC)"
else
D := $(abspath $(DEPS))
DEPS_ENV = INIT_CC="$(CC)" PKG_CONFIG_PATH= \
	PKG_CONFIG_LIBDIR=$(D)/lib/pkgconfig:$(D)/lib64/pkgconfig:$(D)/share/pkgconfig
endif
# One line of $(B)/deps.flags (CC, CPPFLAGS, CFLAGS, LDFLAGS, LIBS).
DF = $$(sed -n 's/^$(1)=//p' $(B)/deps.flags)

# What ssh.list takes from the build directory (see below).
SSH_FILES := $(B)/dropbear $(B)/dropbearkey $(B)/ssh/passwd $(B)/ssh/group \
	$(B)/ssh/shells

.PHONY: all init demo check unit fixtures fuzz fuzz-build lint bench clean \
	update-deps-lock install uninstall print-host-tools enroll-test FORCE
ifeq ($(DEPS),)
all: $(B)/bzImage $(B)/initramfs.cpio.gz $(B)/luksinit-enroll $(SSH_FILES)
else
all: $(B)/init
endif
init: $(B)/init

# The cached builds are asked every time (a warm answer takes well under a
# second); the recorded path only changes, and so only triggers rebuilds,
# when the recipe did. This also heals a cache that was wiped.
$(B)/deps.prefix: FORCE
	@mkdir -p $(B)
	@scripts/build-deps.sh | tail -n1 >$@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

# Not part of any build: moving the pins is a deliberate, reviewed step.
update-deps-lock:
	scripts/build-deps.sh --update-lock

$(B)/kernel.dir: FORCE
	@mkdir -p $(B)
	@scripts/build-kernel.sh | tail -n1 >$@.tmp
	@scripts/prune-kernels.sh "$$(cat $@.tmp)"
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

# Every missing library, header or tool is named here, before anything is
# compiled; the file changes (and so triggers a rebuild) only when the
# answer does, e.g. with another DEPS= or CC=.
$(B)/deps.flags: $(DEPS_PRE) FORCE
	@mkdir -p $(B)
	@$(DEPS_ENV) PKG_CONFIG="$(PKG_CONFIG)" CPPFLAGS="$(CPPFLAGS)" \
		LDFLAGS="$(LDFLAGS)" MIMALLOC="$(MIMALLOC)" \
		scripts/check-deps.sh $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(B)/obj/%.o: %.c $(HDRS) $(B)/deps.flags
	@mkdir -p $(dir $@)
	$(call DF,CC) $(CSTD) $(WARN) $(INC) -Os -ffunction-sections -fdata-sections \
		$(call DF,CPPFLAGS) $(call DF,CFLAGS) -c -o $@ $<

$(B)/init: $(OBJS) $(B)/deps.flags
	$(call DF,CC) -static -pthread -Wl,--gc-sections $(call DF,LDFLAGS) \
		-o $@ $(OBJS) $(call DF,LIBS)
	$(STRIP) --strip-all $@

$(B)/report: tests/guest/report.c tests/guest/netreport.c tests/guest/netreport.h tests/guest/fnv.h \
		$(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $(filter %.c,$^)
	strip --strip-all $@

$(B)/fwtrigger: tests/guest/fwtrigger.c tests/guest/guest.h tests/guest/fnv.h $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/fakeuevent: tests/guest/fakeuevent.c tests/guest/guest.h $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/execblock: tests/guest/execblock.c tests/guest/guest.h $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/orphans: tests/guest/orphans.c tests/guest/guest.h $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/nobtrfsctl: tests/guest/nobtrfsctl.c $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/hibernate: tests/guest/hibernate.c $(B)/deps.prefix
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

# SSH unlock (ssh.list; man luksinit(7), "Unlocking over SSH"): dropbear
# and dropbearkey (to make the initramfs's host key) from the deps prefix,
# and the initramfs's /etc files dropbear reads (SSH_FILES): one user,
# root, whose login shell is the unlock client (dropbear refuses a shell
# not listed in /etc/shells), so every session runs that and nothing else.
$(B)/dropbear: $(B)/deps.prefix
	install -m 0755 $(DEPS_PREFIX)/sbin/dropbear $@
$(B)/dropbearkey: $(B)/deps.prefix
	install -m 0755 $(DEPS_PREFIX)/bin/dropbearkey $@
SSH_ETC_passwd := root:x:0:0:root:/root:/bin/luksinit-unlock
SSH_ETC_group := root:x:0:
SSH_ETC_shells := /bin/luksinit-unlock
$(B)/ssh/%: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' '$(SSH_ETC_$*)' >$@

# The same kernel with no initramfs of ours embedded (only the kernel's
# default /dev/console and /root), to boot build/initramfs.cpio.gz as -initrd.
# It depends on nothing of this clone but the list, so it is kept in the
# cached kernel tree (keyed by the list's content; pruned with the tree)
# and a fresh clone copies it instead of linking it again.
$(B)/bzImage-plain: $(B)/kernel.dir tests/plain.list
	k=$$(cat $(B)/kernel.dir); \
	kept=$$k/.luksinit-plain-$$(sha256sum tests/plain.list | cut -c1-16); \
	if [ -f "$$kept" ]; then cp "$$kept" $@.tmp.$$$$ && mv -f $@.tmp.$$$$ $@; \
	else scripts/link-kernel.sh "$$k" $(abspath tests/plain.list) $@ && \
		cp $@ "$$kept.tmp.$$$$" && mv -f "$$kept.tmp.$$$$" "$$kept"; fi


# Keyboard layouts embedded in the initramfs (docs/BUILDING.md: "Keymaps"):
# names of Debian's console-data keymaps, or paths to keymap files.
# KEYMAPS= (empty) embeds none.
KEYMAPS ?= de-latin1 fr jp106
# Asked every time (quick); the list changes, and so triggers a relink,
# only when a keymap did.
$(B)/keymaps.list: FORCE
	@scripts/keymaps.sh $(B) "$(KEYMAPS)"

# initramfs.list with the keymaps' lines.
$(B)/initramfs.list: initramfs.list $(B)/keymaps.list
	cat initramfs.list $(B)/keymaps.list >$@.tmp
	mv $@.tmp $@

$(B)/bzImage: $(B)/init $(B)/kernel.dir $(B)/initramfs.list
	LUKSINIT_BUILD=$(B) scripts/link-kernel.sh "$$(cat $(B)/kernel.dir)" \
		$(B)/initramfs.list $@

$(B)/initramfs.cpio.gz: $(B)/init $(B)/kernel.dir $(B)/initramfs.list
	LUKSINIT_BUILD=$(B) scripts/make-cpio.sh "$$(cat $(B)/kernel.dir)" \
		$(B)/initramfs.list $@

# The host tool, against Debian's libcryptsetup (a dynamic binary: it runs
# on the installed system, not in the initramfs). It shares the derivation
# and the token format with /init, and secret.c's locked buffers.
ENROLL_SRCS := $(wildcard enroll/*.c common/*.c)
ENROLL_HDRS := $(wildcard enroll/*.h common/*.h)
$(B)/luksinit-enroll: $(ENROLL_SRCS) $(ENROLL_HDRS)
	@mkdir -p $(B)
	@scripts/ensure-packages.sh gcc libc6-dev pkg-config libcryptsetup-dev libjson-c-dev libssl-dev
	$(CC) $(CSTD) $(WARN) -I. -O2 -o $@ $(ENROLL_SRCS) \
		$$(pkg-config --cflags --libs libcryptsetup json-c libcrypto)

# Host tool for the fixtures: encrypts a disk image's extents under a LUKS
# header's volume key (tests/host/encrypt-extents.c), against OpenSSL.
$(B)/encrypt-extents: tests/host/encrypt-extents.c
	@mkdir -p $(B)
	@scripts/ensure-packages.sh gcc libc6-dev libssl-dev
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $< -lcrypto

# Host build: the decompression tests use Debian's libzstd and liblzma.
$(B)/unit: $(UNIT_SRCS) $(PURE) $(SYSFS) $(JOBS) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(B)
	@scripts/ensure-packages.sh gcc libc6-dev libzstd-dev liblzma-dev libblkid-dev libjson-c-dev libcryptsetup-dev libssl-dev
	$(CC) $(CSTD) $(WARN) $(INC) -g -O1 $(SAN) -o $@ $(UNIT_SRCS) $(PURE) $(SYSFS) $(JOBS) \
		$(UNIT_WRAP) -lzstd -llzma -lblkid -ljson-c -lcryptsetup -lcrypto

unit: $(B)/unit
	$(B)/unit

# libFuzzer targets, one per parser (and the firmware decompressor).
FUZZ_TARGETS := cmdline keypath uevent fwname devspec mountopts fwreader \
	btrfssb initcheck fwkmsg dtoken keymap tpm2token
FUZZ_BINS := $(patsubst %,$(B)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 300
CHECK_FUZZ_SECONDS ?= 5

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(PURE) $(HDRS)
	@mkdir -p $(B)/fuzz
	@scripts/ensure-packages.sh clang libclang-rt-14-dev libzstd-dev liblzma-dev libjson-c-dev libssl-dev
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(PURE) -lzstd -llzma -ljson-c -lcrypto

fuzz-build: $(FUZZ_BINS)

lint: $(B)/deps.prefix
	@scripts/ensure-packages.sh clang-format clang-tidy cppcheck
	tests/run-lint.sh $(B)

# The unit tests once more without sanitizers, under valgrind.
$(B)/unit-valgrind: $(UNIT_SRCS) $(PURE) $(SYSFS) $(JOBS) $(HDRS) $(wildcard tests/unit/*.h)
	@scripts/ensure-packages.sh valgrind libzstd-dev liblzma-dev libblkid-dev libjson-c-dev libcryptsetup-dev libssl-dev
	$(CC) $(CSTD) $(WARN) $(INC) -g -O1 -o $@ $(UNIT_SRCS) $(PURE) $(SYSFS) $(JOBS) \
		$(UNIT_WRAP) -lzstd -llzma -lblkid -ljson-c -lcryptsetup -lcrypto

fuzz: fuzz-build
	tests/run-fuzz.sh $(B) $(FUZZ_SECONDS)

fixtures: $(B)/report $(B)/fwtrigger $(B)/fakeuevent $(B)/orphans $(B)/execblock \
		$(B)/nobtrfsctl $(B)/bzImage-plain $(B)/luksinit-enroll \
		$(B)/hibernate $(B)/encrypt-extents $(SSH_FILES)
	scripts/ensure-packages.sh qemu-system-x86 btrfs-progs cryptsetup-bin util-linux fdisk python3 zstd xz-utils busybox-static gcc libc6-dev binutils dosfstools mtools \
		swtpm libtss2-esys-3.0.2-0 libtss2-tcti-swtpm0 systemd openssh-client
	tests/make-fixtures.sh $(B)/fixtures $(B)/report

demo: all fixtures
	scripts/demo.sh $(B)

# The host-side test programs are independent compiles: two at a time.
check: all fixtures
	$(MAKE) -j2 $(B)/unit $(B)/unit-valgrind fuzz-build
	@scripts/ensure-packages.sh clang-format clang-tidy cppcheck valgrind
	CHECK_FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) tests/run-all.sh $(B)

# Benchmarks print figures; they are not tests and assert nothing.
$(B)/bench/%: bench/guest/%.c $(B)/deps.prefix
	@mkdir -p $(B)/bench
	$(MUSL_CC) $(CSTD) $(WARN) -Os -static -o $@ $<
	strip --strip-all $@

$(B)/bench/bzImage-trivial: $(B)/bench/trivial-init $(B)/kernel.dir bench/trivial.list
	LUKSINIT_BUILD=$(B) scripts/link-kernel.sh "$$(cat $(B)/kernel.dir)" \
		$(abspath bench/trivial.list) $@

bench: all $(B)/report $(B)/bench/memsampler $(B)/bench/bzImage-trivial \
		$(B)/luksinit-enroll $(B)/encrypt-extents
	@scripts/ensure-packages.sh python3 python3-matplotlib zstd xz-utils gzip \
		qemu-system-x86 btrfs-progs cryptsetup-bin
	tests/make-fixtures.sh $(B)/bench/fixtures $(B)/report bench
	/usr/bin/python3 bench/bench.py $(B)

# make install: /init and the initramfs.list naming it (point the kernel's
# CONFIG_INITRAMFS_SOURCE at that), the keymaps with keymaps.list (named
# second there), the host tools, the man pages.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LUKSINITDIR ?= $(PREFIX)/lib/luksinit
MANDIR ?= $(PREFIX)/share/man
# Programs for the machine that builds the kernel. Each is installed to
# $(BINDIR) with its man page man/NAME.SECTION (required); a tool that must
# be built names its build output here and make install builds it.
HOST_TOOLS := tools/luksinit-check-kernel-config
# The enrol tool links the host's libcryptsetup (built on the Debian path).
ifeq ($(DEPS),)
HOST_TOOLS += $(B)/luksinit-enroll
endif
host_man = $(wildcard man/$(notdir $(1)).[1-8])
MAN_PAGES = man/luksinit.7 $(foreach t,$(HOST_TOOLS),$(call host_man,$(t)))
INSTALLED_MAN = $(foreach m,$(MAN_PAGES),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))

print-host-tools:
	@echo $(notdir $(HOST_TOOLS))

# SSH unlock (Debian path only: dropbear comes from the deps prefix): dropbear,
# dropbearkey, the /etc files and ssh.list naming them and SSH_KEYDIR.
SSH_KEYDIR ?= /etc/luksinit/ssh
ifeq ($(DEPS),)
INSTALL_SSH := $(SSH_FILES) ssh.list
endif
install: $(B)/init $(HOST_TOOLS) $(MAN_PAGES) initramfs.list $(B)/keymaps.list $(INSTALL_SSH)
	@$(foreach t,$(HOST_TOOLS),[ -n "$(call host_man,$(t))" ] || \
		{ echo "no man page man/$(notdir $(t)).N for host tool $(t)" >&2; exit 1; };) true
	install -d $(DESTDIR)$(LUKSINITDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/init $(DESTDIR)$(LUKSINITDIR)/init
	scripts/installed-list.sh $(LUKSINITDIR)/init <initramfs.list \
		>$(DESTDIR)$(LUKSINITDIR)/initramfs.list.tmp
	mv -f $(DESTDIR)$(LUKSINITDIR)/initramfs.list.tmp $(DESTDIR)$(LUKSINITDIR)/initramfs.list
	chmod 0644 $(DESTDIR)$(LUKSINITDIR)/initramfs.list
	scripts/keymaps.sh --install $(B) "$(DESTDIR)" $(LUKSINITDIR)
	install -m 0755 $(HOST_TOOLS) $(DESTDIR)$(BINDIR)/
	$(foreach m,$(MAN_PAGES),install -D -m 0644 $(m) \
		$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)) &&) true
ifeq ($(DEPS),)
	install -d $(DESTDIR)$(LUKSINITDIR)/ssh
	install -m 0755 $(B)/dropbear $(B)/dropbearkey $(DESTDIR)$(LUKSINITDIR)/
	install -m 0644 $(B)/ssh/passwd $(B)/ssh/group $(B)/ssh/shells \
		$(DESTDIR)$(LUKSINITDIR)/ssh/
	{ echo '# SSH unlock, as installed by make install (the repository'"'"'s ssh.list);'; \
	  echo '# see luksinit(7), "Unlocking over SSH". The host key and authorized_keys'; \
	  echo '# are yours, in $(SSH_KEYDIR).'; \
	  sed -e '/^#/d' -e 's#$${LUKSINIT_BUILD}#$(LUKSINITDIR)#' \
		-e 's#$${LUKSINIT_SSH}#$(SSH_KEYDIR)#' ssh.list; \
	} >$(DESTDIR)$(LUKSINITDIR)/ssh.list.tmp
	! grep -n '\$$' $(DESTDIR)$(LUKSINITDIR)/ssh.list.tmp
	mv -f $(DESTDIR)$(LUKSINITDIR)/ssh.list.tmp $(DESTDIR)$(LUKSINITDIR)/ssh.list
endif

# Exactly what install put there; the directory of /init only if it is
# then empty (something of the user's there stays).
uninstall:
	scripts/keymaps.sh --uninstall "$(DESTDIR)" $(LUKSINITDIR)
	rm -f $(addprefix $(DESTDIR)$(LUKSINITDIR)/,dropbear dropbearkey ssh.list \
		ssh/passwd ssh/group ssh/shells)
	if [ -d $(DESTDIR)$(LUKSINITDIR)/ssh ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LUKSINITDIR)/ssh; fi
	rm -f $(DESTDIR)$(LUKSINITDIR)/init $(DESTDIR)$(LUKSINITDIR)/initramfs.list \
		$(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(HOST_TOOLS))) \
		$(addprefix $(DESTDIR),$(INSTALLED_MAN))
	if [ -d $(DESTDIR)$(LUKSINITDIR) ]; then \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LUKSINITDIR); fi

clean:
	rm -rf $(B)
