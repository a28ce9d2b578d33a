// Shell quoting of template values: each rendered command is run by /bin/sh, and what it prints
// must be the value, literally, with no file created by an injected command.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/dag/loader.h"
#include "common/dag/shell_check.h"
#include "common/dag/template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace de::dag {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Runs `/bin/sh -c command` in `dir`; returns stdout (stderr is dropped).
std::string RunSh(const std::string& command, const fs::path& dir) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    close(fds[0]);
    close(fds[1]);
    if (chdir(dir.c_str()) != 0) _exit(127);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

TemplateContext Ctx(const std::string& who) {
  return MakeTemplateContext("hello_shell", "manual__1", "start", 1, absl::UnixEpoch(),
                             absl::UnixEpoch(), absl::UnixEpoch(), absl::UTCTimeZone(),
                             {{"who", who}, {"n", "3"}});
}

class ShellQuoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("de_shell_quote_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Renders `command` with params.who = `who` and runs it.
  std::string Run(const std::string& command, const std::string& who) {
    auto line = RenderShellCommand(command, Ctx(who));
    EXPECT_TRUE(line.ok()) << command << ": " << line.status();
    if (!line.ok()) return "";
    return RunSh(*line, dir_);
  }
  bool Pwned() const { return fs::exists(dir_ / "pwned"); }

  fs::path dir_;
};

// Values that are shell syntax in one context or another.
const std::vector<std::string>& EvilValues() {
  static const std::vector<std::string> kValues = {
      "x\"; touch pwned; echo \"",
      "x'; touch pwned; echo '",
      "$(touch pwned)",
      "`touch pwned`",
      "a b  c",
      "",
      "*",
      "$HOME ${HOME} $1 $$",
      "back\\slash\\",
      "it's \"quoted\"",
      "'\\''",
      "line1\nline2; touch pwned",
      "-n",
      "; touch pwned #",
      "EOF",
      ") ; touch pwned ; (",
      "}}{{ ds }}",
      "\\$(touch pwned)",
      "!!",
      "caf\xc3\xa9 \t tab",
  };
  return kValues;
}

TEST_F(ShellQuoteTest, OutsideQuotesAValueIsOneWord) {
  for (const std::string& v : EvilValues()) {
    EXPECT_EQ(Run("printf '%s|' {{ params.who }}", v), v + "|") << v;
    EXPECT_EQ(Run("printf '%s|' pre{{ params.who }}post", v), "pre" + v + "post|") << v;
    EXPECT_FALSE(Pwned()) << v;
  }
}

TEST_F(ShellQuoteTest, InsideDoubleQuotes) {
  for (const std::string& v : EvilValues()) {
    EXPECT_EQ(Run("printf '%s|' \"who={{ params.who }}!\"", v), "who=" + v + "!|") << v;
    EXPECT_FALSE(Pwned()) << v;
  }
}

TEST_F(ShellQuoteTest, InsideSingleQuotes) {
  for (const std::string& v : EvilValues()) {
    EXPECT_EQ(Run("printf '%s|' 'who={{ params.who }}!'", v), "who=" + v + "!|") << v;
    EXPECT_FALSE(Pwned()) << v;
  }
}

TEST_F(ShellQuoteTest, InsideCommandSubstitution) {
  for (const std::string& v : EvilValues()) {
    EXPECT_EQ(Run("printf '%s|' \"[$(printf '%s' {{ params.who }})]\"", v), "[" + v + "]|")
        << v;
    EXPECT_EQ(Run("x=$(printf '%s' \"{{ params.who }}\"); printf '%s|' \"$x\"", v), v + "|")
        << v;
    EXPECT_EQ(Run("printf '%s|' \"$(case a in a) printf '%s' {{ params.who }};; esac)\"", v),
              v + "|")
        << v;
    EXPECT_FALSE(Pwned()) << v;
  }
}

TEST_F(ShellQuoteTest, InHereDocuments) {
  for (const std::string& v : EvilValues()) {
    if (v == "EOF") continue;  // refused (below)
    EXPECT_EQ(Run("cat <<EOF\n<{{ params.who }}>\nEOF\necho done", v), "<" + v + ">\ndone\n")
        << v;
    EXPECT_EQ(Run("cat <<'EOF'\n<{{ params.who }}>\nEOF\necho done", v), "<" + v + ">\ndone\n")
        << v;
    EXPECT_EQ(Run("cat <<-EOF\n\t<{{ params.who }}>\n\tEOF\necho done", v),
              "<" + v + ">\ndone\n")
        << v;
    EXPECT_FALSE(Pwned()) << v;
  }
  // A value that would end the here-document early is refused.
  auto early = RenderShellCommand("cat <<EOF\n{{ params.who }}\ntouch pwned\nEOF", Ctx("EOF"));
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(early.status().message(), HasSubstr("equal to its delimiter 'EOF'"));
  auto split = RenderShellCommand("cat <<EOF\nx\n{{ params.who }}\nEOF", Ctx("a\nEOF\nb"));
  ASSERT_FALSE(split.ok());
}

TEST_F(ShellQuoteTest, InAComment) {
  EXPECT_EQ(Run("echo a # {{ params.who }}\necho b", "x\ntouch pwned"), "a\nb\n");
  EXPECT_FALSE(Pwned());
}

TEST_F(ShellQuoteTest, ArithmeticTakesOnlyIntegers) {
  EXPECT_EQ(Run("echo $(( {{ params.n }} + 1 ))", "x"), "4\n");
  auto bad = RenderShellCommand("echo $(( {{ params.who }} + 1 ))", Ctx("1); touch pwned; ((1"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("inside $(( )) must be an integer"));
  // $( ( ...) ) with a space is a subshell inside a command substitution, not arithmetic.
  EXPECT_EQ(Run("echo $( (printf '%s' {{ params.who }}) )", "a;b"), "a;b\n");
}

TEST_F(ShellQuoteTest, PlacesNoValueCanStandAreRefused) {
  for (const char* cmd : {"echo `echo {{ params.who }}`", "echo \\{{ params.who }}",
                          "echo \"\\{{ params.who }}\"", "echo ${{ params.who }}",
                          "cat <<{{ params.who }}\nx\n", "cat <<EOF\n$(echo {{ params.who }})\nEOF"}) {
    auto r = RenderShellCommand(cmd, Ctx("x"));
    EXPECT_FALSE(r.ok()) << cmd;
    EXPECT_THAT(r.status().message(), HasSubstr("{{ params.who }}")) << cmd;
    std::vector<std::string> raw;
    EXPECT_FALSE(CheckShellCommand(cmd, &raw).ok()) << cmd;
  }
}

// At submit, a template in a place no value can stand in is pointed at: on a later line of a
// multi-line (`|`) command, its own line and column; on the command's first line (or in a
// folded command, which the file does not show as is) the command's start.
TEST_F(ShellQuoteTest, SubmitErrorsPointAtTheTemplateInAMultiLineCommand) {
  auto errors = [](const std::string& command_block) {
    std::vector<std::string> out;
    for (const auto& d : LoadDag("dag: p\nparams: { x: a }\ntasks:\n  - id: a\n    type: shell\n"
                                 "    with:\n      command: " +
                                     command_block,
                                 "p.yaml")
                             .errors) {
      out.push_back(d.ToString());
    }
    return out;
  };
  EXPECT_THAT(errors("|\n        echo start\n        x=`echo {{ params.x }}`\n"),
              ::testing::ElementsAre(::testing::StartsWith(
                  "p.yaml:9:17: command: {{ params.x }} inside backticks `...`")));
  EXPECT_THAT(
      errors("|\n        echo start\n        if true; then\n          cat <<EOF\n"
             "        $(echo {{ params.x }})\n        EOF\n        fi\n"),
      ::testing::ElementsAre(::testing::StartsWith(
          "p.yaml:11:16: command: {{ params.x }} inside $( ) or `...` in a here-document")));
  EXPECT_THAT(
      errors("|\n        x=`echo {{ params.x }}`\n"),
      ::testing::ElementsAre(::testing::StartsWith("p.yaml:7:16: command: {{ params.x }}")));
  EXPECT_THAT(
      errors(">\n        echo start\n        x=`echo {{ params.x }}`\n"),
      ::testing::ElementsAre(::testing::StartsWith("p.yaml:7:16: command: {{ params.x }}")));
}

TEST_F(ShellQuoteTest, RawIsShellSyntaxByChoice) {
  EXPECT_EQ(Run("echo {{ params.who | raw }}", "a; echo b"), "a\nb\n");
  std::vector<std::string> raw;
  EXPECT_TRUE(CheckShellCommand("echo {{ params.who | raw }} {{ ds }}", &raw).ok());
  EXPECT_THAT(raw, ::testing::ElementsAre("params.who"));
  // After a raw value the lexer follows what it wrote: here it opened a double quote.
  EXPECT_EQ(Run("printf '%s|' {{ params.who | raw }}{{ ds }}\"", "\"x"), "x1970-01-01|");
}

TEST_F(ShellQuoteTest, EverydayCommandsPrintWhatTheyDidBefore) {
  TemplateContext ctx = Ctx("world");
  ctx.vars["attempt"] = "1";
  auto run = [&](const std::string& c) {
    auto line = RenderShellCommand(c, ctx);
    EXPECT_TRUE(line.ok()) << line.status();
    return line.ok() ? RunSh(*line, dir_) : "";
  };
  EXPECT_EQ(run("echo \"dt={{ ds }}\""), "dt=1970-01-01\n");
  EXPECT_EQ(run("echo {{ dag }} {{ ds }} finished"), "hello_shell 1970-01-01 finished\n");
  EXPECT_EQ(run("if [ \"{{ attempt }}\" -lt 2 ]; then echo first; fi"), "first\n");
  EXPECT_EQ(run("f=\"lake/dt={{ ds }}/x.csv\"; echo \"$f\""), "lake/dt=1970-01-01/x.csv\n");
  EXPECT_EQ(run("echo \"$(($(echo 3) - 1)) for {{ ds }}\""), "2 for 1970-01-01\n");
  EXPECT_EQ(run("echo '{{ params.who }}'\"{{ params.who }}\"{{ params.who }}"),
            "worldworldworld\n");
}

// Every shell command of the shipped DAGs renders and prints what the unquoted substitution
// printed (run in an empty folder: the same files are missing for both).
TEST_F(ShellQuoteTest, ShippedDagsKeepWorking) {
  int commands = 0;
  for (const auto& e : fs::directory_iterator("dags")) {
    std::ifstream f(e.path());
    std::stringstream text;
    text << f.rdbuf();
    LoadResult r = LoadDag(text.str(), e.path().string());
    ASSERT_TRUE(r.ok()) << e.path() << ": " << r.errors[0].ToString();
    for (const auto& w : r.warnings) EXPECT_THAT(w.message, ::testing::Not(HasSubstr("raw")));
    for (const TaskSpec& t : r.dag->tasks) {
      if (t.type != "shell" || !t.with["command"].IsScalar()) continue;
      ++commands;
      TemplateContext ctx = MakeTemplateContext(r.dag->id, "manual__1", t.id, 2,
                                                absl::UnixEpoch(), absl::UnixEpoch(),
                                                absl::UnixEpoch(), absl::UTCTimeZone(),
                                                r.dag->params);
      const std::string text_cmd = t.with["command"].Scalar();
      auto quoted = RenderShellCommand(text_cmd, ctx);
      ASSERT_TRUE(quoted.ok()) << t.id << ": " << quoted.status();
      auto naive = RenderTemplate(text_cmd, ctx);
      ASSERT_TRUE(naive.ok());
      EXPECT_EQ(RunSh(*quoted, dir_), RunSh(*naive, dir_)) << t.id << ":\n" << *quoted;
    }
  }
  EXPECT_GE(commands, 5);
}

}  // namespace
}  // namespace de::dag
