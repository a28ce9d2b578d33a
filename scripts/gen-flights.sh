#!/usr/bin/env bash
# Prints one day of made-up US flights as CSV (the demo's and the pipeline test's input):
#   date,carrier,flight,origin,destination,dep_time,distance,delay
# Busy airports fly more; distance is the great-circle distance of the pair (miles); delay is
# minutes, skewed late, empty for 3% of rows and "NA" for 1%; 1 row in 2,000 has a bad distance
# and 1 in 1,000 a distance of 0; 1 in 200 has its origin in lower case with spaces around it;
# 1 in 500 is delivered twice. The same DAY ROWS SEED always give the same file.
# Usage: gen-flights.sh DAY ROWS [SEED]     e.g. gen-flights.sh 2024-01-01 50000 1 | gzip > x.csv.gz
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DAY ROWS [SEED]" >&2; exit 2; }
awk -v day="$1" -v rows="$2" -v seed="${3:-1}" 'BEGIN {
  srand(seed)
  na = split("ATL DFW DEN ORD LAX JFK LAS MCO MIA CLT SEA PHX EWR SFO IAH BOS", ap, " ")
  split("33.64 32.90 39.86 41.98 33.94 40.64 36.08 28.43 25.79 35.21 47.45 33.43 40.69 37.62 29.98 42.36", lat, " ")
  split("-84.43 -97.04 -104.67 -87.90 -118.41 -73.78 -115.15 -81.31 -80.29 -80.94 -122.31 -112.01 -74.17 -122.38 -95.34 -71.01", lon, " ")
  nc = split("AA DL UA WN B6 AS NK F9", car, " ")
  rad = 3.14159265358979 / 180
  print "date,carrier,flight,origin,destination,dep_time,distance,delay"
  for (i = 1; i <= rows; i++) {
    o = int(na * rand() ^ 1.6) + 1
    do { d = int(na * rand() ^ 1.3) + 1 } while (d == o)
    key = o "," d
    if (!(key in dist)) {
      dl = (lat[d] - lat[o]) * rad; dn = (lon[d] - lon[o]) * rad
      a = sin(dl / 2) ^ 2 + cos(lat[o] * rad) * cos(lat[d] * rad) * sin(dn / 2) ^ 2
      dist[key] = int(3959 * 2 * atan2(sqrt(a), sqrt(1 - a)) + 0.5)
    }
    miles = dist[key]
    if (rand() < 0.0005) miles = "n/a"
    else if (rand() < 0.001) miles = 0
    orig = ap[o]
    if (rand() < 0.005) orig = " " tolower(orig) " "
    r = rand()
    if (r < 0.03) delay = ""
    else if (r < 0.04) delay = "NA"
    else { u = rand(); if (u < 1e-9) u = 1e-9; delay = int(-log(u) * 22 - 9) }
    line = sprintf("%s,%s,%d,%s,%s,%02d:%02d,%s,%s", day, car[int(nc * rand()) + 1], 100 + int(rand() * 4900),
                   orig, ap[d], 5 + int(rand() * 18), int(rand() * 12) * 5, miles, delay)
    print line
    if (rand() < 0.002) print line   # the same row delivered twice
  }
}'
