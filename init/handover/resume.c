#include "handover/resume.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/knob.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sysroot.h"

void resume_init(struct resume *r, const struct boot_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
}

void resume_begin_attempt(struct resume *r)
{
	memset(&r->dev, 0, sizeof(r->dev));
	r->found = false;
	r->wait_since = r->wait_last = r->waited_ms = 0;
}

bool resume_wanted(const struct boot_config *cfg)
{
	return cfg->resume.kind != DEVSPEC_NONE && !cfg->noresume;
}

bool resume_kernel_unchecked(const struct boot_config *cfg)
{
	return cfg->resume_by_kernel[0] && !cfg->noresume &&
	       cfg->nmembers > 0 && !cfg->luks_off;
}

void resume_warn_unchecked(const struct boot_config *cfg)
{
	if (!resume_kernel_unchecked(cfg))
		return;
	char shown[2 * DEVSPEC_VALUE_MAX];
	str_escape_controls(shown, sizeof(shown), cfg->resume_by_kernel);
	log_warn(
		"resume=%s: the kernel resumes from this form itself, before /init runs, from any disk that carries it: a stranger's disk with a crafted image would be restored past the encryption; name the encrypted swap by resume=UUID=, LABEL= or /dev/mapper/NAME",
		shown);
}

enum resume_match resume_match(const struct boot_config *cfg,
			       const struct dev_ids *ids, bool ours)
{
	if (cfg->resume.kind == DEVSPEC_NONE ||
	    !devspec_matches(&cfg->resume, ids))
		return RESUME_NO;
	bool encrypted = cfg->nmembers > 0 && !cfg->luks_off;
	if (!encrypted || ours || cfg->resume.kind == DEVSPEC_PATH)
		return RESUME_YES;
	return RESUME_REFUSED;
}

void resume_on_device(struct resume *r, const struct dev_ids *ids, bool ours)
{
	if (r->found)
		return;
	switch (resume_match(r->cfg, ids, ours)) {
	case RESUME_YES:
		r->dev = *ids;
		r->found = true;
		return;
	case RESUME_REFUSED:
		log_warn(
			"%s: carries resume=%s%s but is no LUKS device luksinit opened: not resuming from it (a plain swap next to LUKS members is named by its path, resume=/dev/...)",
			ids->devnode, devspec_kind_name(r->cfg->resume.kind),
			r->cfg->resume.value);
		return;
	case RESUME_NO:
		return;
	}
}

bool resume_device_missing(const struct resume *r)
{
	return resume_wanted(r->cfg) && !r->found;
}

long long resume_wait_ms(struct resume *r, long long now, bool paused)
{
	if (!r->wait_since)
		r->wait_since = r->wait_last = now;
	if (!paused)
		r->waited_ms += now - r->wait_last;
	r->wait_last = now;
	long long left = RESUME_WAIT_MS - r->waited_ms;
	long long cap = r->wait_since + RESUME_WAIT_CAP_MS - now;
	if (left <= 0 || cap <= 0)
		return -1;
	return paused ? cap : (left < cap ? left : cap);
}

void resume_wait_ended(const struct resume *r, const char *swaps)
{
	char missing[512];
	str_copy(missing, sizeof(missing), swaps);
	if (resume_device_missing(r)) {
		str_append(missing, sizeof(missing),
			   missing[0] ? ", resume=" : "resume=");
		str_append(missing, sizeof(missing),
			   devspec_kind_name(r->cfg->resume.kind));
		str_append(missing, sizeof(missing), r->cfg->resume.value);
	}
	log_warn(
		"swap not found after %lld s: %s; booting without it (no resume from it)",
		(r->wait_last - r->wait_since) / 1000, missing);
}

void resume_forbid(struct resume *r, enum resume_forbid why)
{
	if (why == RESUME_ROOT_MOUNTED)
		r->root_mounted = true;
	else
		r->shell_ran = true;
}

int resume_format_dev(char *buf, size_t size, unsigned maj, unsigned min)
{
	int n = snprintf(buf, size, "%u:%u", maj, min);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

/* A filesystem on a block device is mounted: one mounted in the rescue
 * shell counts as much as our root. */
static bool block_fs_mounted(void)
{
	char path[256], line[512];
	if (sysroot_path(path, sizeof(path), "/proc/self/mounts") < 0)
		return true; /* cannot tell: do not risk it */
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "/dev/", 5) == 0;
	fclose(f);
	return found;
}

static int write_knob(const char *knob, const char *value)
{
	char path[256];
	if (sysroot_path(path, sizeof(path), knob) < 0)
		return -ENAMETOOLONG;
	return knob_write(path, value);
}

/* Why no resume is attempted now, or NULL to attempt it. Resuming after a
 * filesystem was mounted would restore a kernel whose idea of that
 * filesystem is older than the disk (a Btrfs mount, even read-only, may
 * replay its log): the kernel may refuse, or the filesystem is corrupted.
 * So a retry from the emergency prompt resumes only if nothing was
 * mounted since, and never tries the same image twice (the kernel's
 * answer would not change). */
static const char *resume_refusal(const struct resume *r)
{
	if (r->cfg->resume.kind == DEVSPEC_NONE || r->tried)
		return NULL;
	if (!r->found)
		return "the resume device did not appear: booting without resuming";
	if (r->root_mounted || block_fs_mounted())
		return "a filesystem was mounted since boot: resuming now could corrupt it; not resuming";
	/* The shell may have mounted and unmounted a filesystem (not seen in
	 * the mounts now), or changed the swap: the same risk. */
	if (r->shell_ran)
		return "the rescue shell ran since boot (it may have mounted a filesystem): not resuming";
	return NULL;
}

void resume_attempt(struct resume *r)
{
	const struct boot_config *cfg = r->cfg;
	const struct dev_ids *dev = &r->dev;
	if (cfg->noresume) {
		log_info("noresume: not resuming");
		return;
	}
	const char *why = resume_refusal(r);
	if (why) {
		log_warn("resume=%s%s: %s", devspec_kind_name(cfg->resume.kind),
			 cfg->resume.value, why);
		return;
	}
	if (!resume_wanted(cfg) || r->tried)
		return;
	r->tried = true;
	struct stat sb;
	char num[32];
	if (stat(dev->devnode, &sb) < 0 || !S_ISBLK(sb.st_mode)) {
		log_warn("resume: %s is not a block device: not resuming",
			 dev->devnode);
		return;
	}
	resume_format_dev(num, sizeof(num), major(sb.st_rdev),
			  minor(sb.st_rdev));
	if (cfg->resume_offset_set) {
		char off[32];
		snprintf(off, sizeof(off), "%llu", cfg->resume_offset);
		int rc = write_knob("/sys/power/resume_offset", off);
		if (rc < 0) {
			log_warn_errno(
				rc,
				"resume: not resuming: cannot set resume_offset=%s",
				off);
			return;
		}
	}
	log_info("resume: looking for a hibernation image on %s (%s)",
		 dev->devnode, num);
	/* If an image is there the kernel restores it and this write never
	 * returns: the hibernated system continues instead. */
	int rc = write_knob("/sys/power/resume", num);
	if (rc < 0)
		log_warn_errno(rc, "resume from %s failed, booting normally",
			       dev->devnode);
	else
		log_info(
			"resume: no hibernation image restored from %s (see the kernel's lines above); booting normally",
			dev->devnode);
}
