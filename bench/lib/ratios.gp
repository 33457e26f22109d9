# bench/lib/ratios.gp - measured ratios against their targets.
# gnuplot -e "datafile='...'; outfile='...'; subtitle='...'" bench/lib/ratios.gp
# datafile columns: index, "label", ratio, target, met (1/0)
set terminal pngcairo size 1250,700 font "DejaVu Sans,10" noenhanced
set output outfile
set title "schemakit vs today's alternatives: measured ratio (bar) and target (black line)\n".subtitle
set logscale y
set yrange [0.05:300]
set ylabel "ratio (log scale)"
set format y "%g"
set ytics (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200)
set grid ytics lc rgb "#dddddd"
set xrange [0.4:*]
set xtics rotate by -30 left nomirror
set bmargin 13
set rmargin 26
set lmargin 10
set style fill solid 0.85 border -1
set boxwidth 0.6
unset key
plot datafile using 1:3:($5 == 1 ? 0x2e9d4f : 0xd0453a):xtic(2) with boxes lc rgb variable, \
     '' using ($1 - 0.42):4:(0.84):(0) with vectors nohead lw 3 lc rgb "black", \
     '' using 1:($3 / 1.3):(sprintf("%.3g", $3)) with labels font ",10" tc rgb "white"
