# plot_cpu.gp: docs/bench/cpu.png from cpu.dat (written by bench/bench_vs_pytorch.py); run in the
# folder that holds cpu.dat. Left: ms per frame, pcavs (float32 and, where the CPU has a bf16 unit, the
# bf16 mode) vs PyTorch (log scale). Right: GFLOP/s of float32 pcavs and PyTorch against the sgemm and FMA
# peaks measured in the same run.
set terminal pngcairo size 1400,560 font "sans,10" noenhanced
set output "cpu.png"
set datafile separator whitespace
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 scale 0 nomirror
set grid ytics
set key top left
stats "cpu.dat" using 7 nooutput name "SG"
stats "cpu.dat" using 8 nooutput name "FM"
set multiplot layout 1,2 title "pcavs vs official PyTorch modules, CPU (same machine, same run, same threads)"
set title "ms per frame (lower is better)"
set key top right
set logscale y
set ylabel "ms / frame"
plot "cpu.dat" using 3:xtic(1) title "pcavs fp32" lc rgb "#1f77b4", \
     "" using 9 title "pcavs bf16 mode" lc rgb "#9ecae1", \
     "" using 4 title "PyTorch (official modules)" lc rgb "#d62728"
unset logscale y
set title "GFLOP/s (higher is better)"
set key top left
set ylabel "GFLOP/s"
set yrange [0:FM_max*1.3]
plot "cpu.dat" using 5:xtic(1) title "pcavs" lc rgb "#1f77b4", \
     "" using 6 title "PyTorch" lc rgb "#d62728", \
     SG_max with lines dt 2 lw 2 lc rgb "#2ca02c" title sprintf("sgemm peak %.0f", SG_max), \
     FM_max with lines dt 3 lw 2 lc rgb "#000000" title sprintf("FMA peak %.0f", FM_max)
unset multiplot
