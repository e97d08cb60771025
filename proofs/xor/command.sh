# Run from inside proofs/xor (with exactrelu on PATH): bash command.sh
exactrelu shallow net.json --box=0:1 -o shallow.json
exactrelu check shallow.cert.json --model net.json
exactrelu report shallow.cert.json --model net.json -o proof.md
exactrelu report shallow.cert.json --model net.json --latex -o proof.tex
