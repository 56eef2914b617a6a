/* The MPI test program: an allreduce of the ranks' numbers and a ring of
 * point-to-point messages, each checked; one line from rank 0 on success,
 * exit 1 with the reason otherwise. Built in the MPI test image
 * (mpi-image.sh) against OpenMPI and against MPICH. */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rank, size, sum = 0, token = -1, ok, all_ok;
	char host[64] = "";

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	/* allreduce: 0 + 1 + ... + size-1 */
	MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	ok = sum == size * (size - 1) / 2;
	/* point-to-point: each rank sends its number to the next, around the ring */
	MPI_Sendrecv(&rank, 1, MPI_INT, (rank + 1) % size, 7, &token, 1, MPI_INT,
		     (rank + size - 1) % size, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	ok = ok && token == (rank + size - 1) % size;
	if (!ok)
		fprintf(stderr, "rank %d: allreduce %d (want %d), token %d (want %d)\n", rank, sum,
			size * (size - 1) / 2, token, (rank + size - 1) % size);
	MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
	gethostname(host, sizeof(host) - 1);
	if (rank == 0)
		printf("mpitest: %s size %d allreduce %d ring %s\n", all_ok ? "ok" : "FAILED", size, sum,
		       all_ok ? "ok" : "FAILED");
	MPI_Finalize();
	return all_ok ? 0 : 1;
}
