# Run from inside proofs/zigzag-finite (with exactrelu on PATH): bash command.sh
exactrelu shallow net.json --box=-1:4 -o shallow.json
exactrelu check shallow.cert.json --model net.json --shallow shallow.json --box=-1:4
exactrelu report shallow.cert.json --model net.json -o proof.md
exactrelu shallow net.json --box=-1:4 --finite -o finite.json
exactrelu check finite.cert.json --model-a net.json --model-b finite.json --box=-1:4
exactrelu report finite.cert.json --model-a net.json --model-b finite.json -o finite-proof.md
