// The one Boost.Test main per unit executable; test cases live beside it.
#define BOOST_TEST_MODULE weft
#include <boost/test/unit_test.hpp>
