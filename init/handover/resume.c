#include "handover/resume.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/knob.h"
#include "base/log.h"
#include "base/sysroot.h"

bool resume_wanted(const struct boot_config *cfg)
{
	return cfg->resume.kind != DEVSPEC_NONE && !cfg->noresume;
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
static const char *resume_refusal(const struct boot_config *cfg, bool found,
				  const struct resume_state *st)
{
	if (cfg->resume.kind == DEVSPEC_NONE || st->tried)
		return NULL;
	if (!found)
		return "the resume device did not appear: booting without resuming";
	if (st->root_mounted || block_fs_mounted())
		return "a filesystem was mounted since boot: resuming now could corrupt it; not resuming";
	/* The shell may have mounted and unmounted a filesystem (not seen in
	 * the mounts now), or changed the swap: the same risk. */
	if (st->shell_ran)
		return "the rescue shell ran since boot (it may have mounted a filesystem): not resuming";
	return NULL;
}

void resume_attempt(const struct boot_config *cfg, const struct dev_ids *dev,
		    bool found, struct resume_state *st)
{
	if (cfg->noresume) {
		log_info("noresume: not resuming");
		return;
	}
	const char *why = resume_refusal(cfg, found, st);
	if (why) {
		log_warn("resume=%s%s: %s", devspec_kind_name(cfg->resume.kind),
			 cfg->resume.value, why);
		return;
	}
	if (!resume_wanted(cfg) || st->tried)
		return;
	st->tried = true;
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
			log_warn(
				"resume: cannot set resume_offset=%s: %s; not resuming",
				off, strerror(-rc));
			return;
		}
	}
	log_info("resume: looking for a hibernation image on %s (%s)",
		 dev->devnode, num);
	/* If an image is there the kernel restores it and this write never
	 * returns: the hibernated system continues instead. */
	int rc = write_knob("/sys/power/resume", num);
	if (rc < 0)
		log_warn("resume from %s failed: %s; booting normally",
			 dev->devnode, strerror(-rc));
	else
		log_info(
			"resume: no hibernation image restored from %s (see the kernel's lines above); booting normally",
			dev->devnode);
}
