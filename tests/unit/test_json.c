/*
 * The JSON of `cellvm ctl --json` (broker/json.c): strings escaped as RFC
 * 8259 asks, invalid UTF-8 replaced, commas and nesting right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

/* What json_string() writes for s. */
static char *escaped(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_string(f, s);
	fclose(f);
	return buf;
}

static void check_escaped(const char *in, const char *want)
{
	char *got = escaped(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_plain_text_is_only_quoted(void **state)
{
	check_escaped("cellvm-dev-uart", "\"cellvm-dev-uart\"");
	check_escaped("", "\"\"");
	check_escaped(NULL, "\"\"");
}

static void test_quotes_and_backslashes_are_escaped(void **state)
{
	check_escaped("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
}

static void test_control_characters_are_escaped(void **state)
{
	check_escaped("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	check_escaped("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check_escaped("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void test_valid_utf8_passes_through(void **state)
{
	/* U+00E9, U+20AC, U+1F600: two, three and four bytes. */
	check_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* The highest code point, U+10FFFF. */
	check_escaped("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
}

static void test_invalid_utf8_becomes_replacement_characters(void **state)
{
	/* A lone continuation byte, a truncated sequence, Latin-1. */
	check_escaped("\x80", "\"\\ufffd\"");
	check_escaped("a\xc3", "\"a\\ufffd\"");
	check_escaped("\xe9t\xe9", "\"\\ufffdt\\ufffd\"");
	/* Overlong forms of '/' and NUL: never decoded to the ASCII. */
	check_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_escaped("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	/* A UTF-16 surrogate (U+D800) and a code point above U+10FFFF. */
	check_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_escaped("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* A sequence cut short by the end of the string. */
	check_escaped("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
}

static void test_writer_places_commas_and_nests(void **state)
{
	struct json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_start(&j, f);
	json_object(&j, NULL);
	json_str(&j, "name", "vm\n1");
	json_u64(&j, "big", 18446744073709551615ull);
	json_array(&j, "vcpus");
	json_object(&j, NULL);
	json_u64(&j, "id", 0);
	json_null(&j, "insn_emulation");
	json_end(&j, '}');
	json_object(&j, NULL);
	json_bool(&j, "alive", false);
	json_end(&j, '}');
	json_end(&j, ']');
	json_array(&j, "empty");
	json_end(&j, ']');
	json_bool(&j, "ok", true);
	json_end(&j, '}');
	fclose(f);
	assert_string_equal(buf,
			    "{\"name\":\"vm\\n1\","
			    "\"big\":18446744073709551615,"
			    "\"vcpus\":[{\"id\":0,\"insn_emulation\":null},"
			    "{\"alive\":false}],"
			    "\"empty\":[],\"ok\":true}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_only_quoted),
		cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
		cmocka_unit_test(test_control_characters_are_escaped),
		cmocka_unit_test(test_valid_utf8_passes_through),
		cmocka_unit_test(
			test_invalid_utf8_becomes_replacement_characters),
		cmocka_unit_test(test_writer_places_commas_and_nests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
