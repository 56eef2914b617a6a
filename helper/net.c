#include "helper.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A new network namespace starts with lo down; many programs (MPI, NCCL
 * fallbacks, local servers in tests) expect 127.0.0.1 to work. */
int sbx_net_loopback_up(struct sbx_err *err)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return sbx_err_sys(err, NULL, "network lo: socket");
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		sbx_err_sys(err, NULL, "network lo: get flags");
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		sbx_err_sys(err, NULL, "network lo: bring up");
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
