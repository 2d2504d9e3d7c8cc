/* The states and key sources of the LUKS members, shared by the member
 * table (luksmembers.h) and the pure policies that decide over it
 * (derivedpolicy.h, lukskeys.h). */
#ifndef LUKSINIT_LUKSVIEW_H
#define LUKSINIT_LUKSVIEW_H

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

#endif
