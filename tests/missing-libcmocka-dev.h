/* Force-included by configure when libcmocka-dev is missing: the test that needs it
 * stops here, naming the package. */
#error                                                                                             \
    "make check needs the Debian package libcmocka-dev: apt-get install libcmocka-dev (or scripts/setup.sh)"
