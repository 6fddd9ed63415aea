/* Force-included by configure when libcgroup-dev is missing: the test that needs it
 * stops here, naming the package. */
#error                                                                                             \
    "make check needs the Debian package libcgroup-dev: apt-get install libcgroup-dev (or scripts/setup.sh)"
