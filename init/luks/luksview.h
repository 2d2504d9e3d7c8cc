/* The LUKS members as the pure policies see them (derivedpolicy.h,
 * lukskeys.h): a few facts per member, copied out of the member table
 * (members_view in luksmembers.h) whenever a decision is due. The
 * policies read nothing else, so a unit test writes a view and asks. */
#ifndef LUKSINIT_LUKSVIEW_H
#define LUKSINIT_LUKSVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "config/cmdline.h"

enum member_state {
	MEMBER_WAITING,	  /* device not seen yet */
	MEMBER_LOADING,	  /* a worker reads its header */
	MEMBER_FOUND,	  /* header loaded, needs a key */
	MEMBER_UNLOCKING, /* a worker runs the KDF */
	MEMBER_OPEN,
	MEMBER_FAILED,
	MEMBER_DUPLICATE, /* names the device of member dup_of again */
};

/* KEY_DERIVED: made from the primary's volume key (luksderived.h). */
enum key_source { KEY_FILE, KEY_SHARED, KEY_OWN, KEY_DERIVED };

/* What the person is asked for: nothing, the passphrase for every member
 * that lacks a key, or one member's own. */
enum luks_need { NEED_NOTHING, NEED_SHARED, NEED_OWN };

struct member_view {
	enum member_state state;
	enum key_source source; /* the key its job tries, while UNLOCKING */
	const char *uuid;	/* its LUKS UUID; "" until its header is read */
	/* A derived keyslot (luksderived.h): opened with a key made from the
	 * volume key of the member whose LUKS UUID is primary_uuid. */
	bool derived;
	bool derived_failed; /* that key did not open it: the passphrase will */
	const char *primary_uuid;
	bool reencrypt;	      /* only a passphrase opens it, in its worker */
	bool exclusive;	      /* its job runs alone */
	bool vk_at_hand;      /* its job found its volume key, and it is kept */
	bool own;	      /* a passphrase typed at its own prompt waits */
	bool keyfile_untried; /* it has a key file, not tried yet */
	/* That key file is being read from its stick (a job, at most
	 * KEYDEV_READ_TIMEOUT_MS): a key about to be tried. */
	bool keyfile_reading;
	/* The shared passphrase typed last was not tried on it yet. */
	bool shared_untried;
	/* The shared passphrase typed last was tried on it and failed: a
	 * try is charged, or not, once that round is over. */
	bool shared_failed;
	int tries_left;
	uint64_t cost_kb; /* what its KDF job is charged (luksmembers.h) */
};

struct luks_view {
	int n;
	struct member_view m[LUKS_MEMBERS_MAX];
	bool shared;	    /* a shared passphrase is at hand */
	bool shared_opened; /* that passphrase opened at least one member */
	uint64_t budget_kb; /* memory the KDF jobs may use; 0: unknown */
	uint64_t in_use_kb; /* what the running jobs are charged */
};

#endif
