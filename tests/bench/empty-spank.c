/* The floor of the plain-step rows (tests/bench/run.sh): a SPANK plugin that
 * does nothing. Slurm refuses a plugin without a symbol, so it has one. What
 * Slurm charges a step for any plugin in plugstack.conf is what this one
 * costs; the sandbox plugin's own cost is what it adds on top. */
#include <slurm/spank.h>

SPANK_PLUGIN(bench_empty, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	return 0;
}
