#include "handover/rootmount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/strutil.h"
#include "config/mountopts.h"

static int try_types(const char *types, const struct dev_ids *dev,
		     const struct mount_opts *opts, char *tried, size_t size)
{
	int err = -EINVAL;
	const char *p = types;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char type[64];
		if (len > 0 && str_copy_n(type, sizeof(type), p, len) == 0) {
			log_debug(
				"mount %s on %s type %s flags 0x%lx data '%s'",
				dev->devnode, NEWROOT, type, opts->flags,
				opts->data);
			if (mount(dev->devnode, NEWROOT, type, opts->flags,
				  opts->data[0] ? opts->data : NULL) == 0)
				return 0;
			err = -errno;
			str_append(tried, size, tried[0] ? ", " : "");
			str_append(tried, size, type);
			str_append(tried, size, ": ");
			str_append(tried, size, strerror(errno));
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return err;
}

static int mount_as_asked(const struct boot_config *cfg,
			  const struct dev_ids *dev, bool degraded,
			  struct failure *f)
{
	struct mount_opts opts;
	if (mountopts_parse(&opts, cfg->rootflags, cfg->read_write) < 0) {
		return failure_say(f, -EINVAL, "rootflags=%s is malformed",
				   cfg->rootflags);
	}
	if (degraded && !opts.degraded &&
	    str_append(opts.data, sizeof(opts.data),
		       opts.data[0] ? ",degraded" : "degraded") < 0) {
		return failure_say(f, -ENAMETOOLONG, "rootflags=%s too long",
				   cfg->rootflags);
	}
	const char *types = cfg->rootfstype[0] ? cfg->rootfstype : dev->type;
	if (!types[0]) {
		return failure_say(
			f, -ENODEV,
			"no filesystem recognised on %s and no rootfstype= given",
			dev->devnode);
	}
	mkdir(NEWROOT, 0755);
	log_info("mounting %s (%s) on %s", dev->devnode, types, NEWROOT);
	char tried[256] = "";
	int rc = try_types(types, dev, &opts, tried, sizeof(tried));
	if (rc < 0)
		return failure_say(f, rc, "cannot mount %s on %s (%s)",
				   dev->devnode, NEWROOT, tried);
	log_info("mounted %s (%s) on %s%s", dev->devnode, types, NEWROOT,
		 (opts.flags & MS_RDONLY) ? " read-only" : "");
	return 0;
}

int mount_root(const struct boot_config *cfg, const struct dev_ids *dev,
	       bool degraded, struct failure *f)
{
	int rc = mount_as_asked(cfg, dev, degraded, f);
	if (rc < 0)
		f->hint = "check rootfstype= and rootflags= (e.g. subvol=)";
	return rc;
}
