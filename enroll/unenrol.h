/* Showing and taking out derived keyslots. */
#ifndef LUKSINIT_ENROLL_UNENROL_H
#define LUKSINIT_ENROLL_UNENROL_H

/* Prints each derived keyslot of path, and whether it is stale: its
 * primary (at primary, or else /dev/disk/by-uuid/ its UUID) was re-keyed
 * since enrolment, and its old volume key still opens the keyslot.
 * Returns 0 or -errno (said). */
int list_derived(const char *path, const char *primary);
/* Removes the derived keyslots and their tokens from every device, or
 * leaves every header as it was. Returns 0 or -errno (said). */
int remove_derived(char *const paths[], int n, const char *tmpdir);

#endif
