#include "server/daemon.h"
int main(int argc, char** argv) { return de::server::Main(argc, argv); }
