/* Hostile compressed firmware: any bytes as .zst, .xz or plain must give
 * data or an error, bounded, never a crash or a hang. */
#include <sys/mman.h>
#include <unistd.h>

#include "firmware/fwreader.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum fw_format fmt = (enum fw_format)(data[0] % 3);
	int fd = memfd_create("fw", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	lseek(fd, 0, SEEK_SET);
	struct fw_reader *r = fw_reader_open(fd, fmt);
	INVARIANT(r);
	static char buf[65536];
	size_t total = 0;
	ssize_t n;
	while ((n = fw_reader_read(r, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		INVARIANT(total <= FW_SIZE_MAX);
	}
	fw_reader_close(r);
	return 0;
}
