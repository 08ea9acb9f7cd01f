/* skiff's native per-container monitor: the same job and the same arguments as skiff/monitor/main.py,
 * in C so that a running container costs the host less memory than Podman's conmon (a Python monitor
 * is ~3 MB PSS; this is ~0.2 MB).  Built on first use by skiff/monitor/native.py; the Python monitor is
 * the fallback when no C compiler is present.
 *
 * argv: k=v ... [--health HEALTH-COMMAND... ] -- EXIT-COMMAND...
 *   pid=N log=PATH exit=PATH attach=PATH cgroup=/skiff/ID out=FD err=FD in=FD tty=FD stdin=0|1
 *   wait_attach=SECONDS unless=PATH (the exit command is not run when PATH exists: `rm -f` cleans up itself)
 *   max_size=BYTES max_file=N (json-file's rotation: past BYTES the log becomes PATH.1, PATH.1 becomes PATH.2...
 *   up to PATH.(N-1); with N=1 the log starts again empty)
 *   health_interval=MS health_start_period=MS health_start_interval=MS (with --health: the health check's
 *   probe is run every interval, one at a time; its exit code 3 means "still starting", and while the start
 *   period lasts the start interval applies then)
 * Logs: Docker's json-file lines. Attach protocol: see skiff/monitor/monitor.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 16
#define BUF 65536

static int logfd = -1, cpid = -1, status = -1, stdin_fd = -1, tty_fd = -1;
static const char *logp = NULL;
static long long log_size = 0, max_size = 0;
static int max_file = 1;
static char **hcmd = NULL;  /* the health check's probe command */
static long long h_interval = 0, h_start_period = 0, h_start_interval = 0, h_started = 0, h_next = 0;
static pid_t h_pid = 0;
static int h_starting = 1;

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* when the next probe runs, counted from the end of the last one (moby's health monitor) */
static void health_schedule(void) {
    long long now = now_ms();
    int early = h_starting && h_start_period > 0 && now - h_started < h_start_period;
    h_next = now + (early ? h_start_interval : h_interval);
}

static void health_probe(void) {
    if (!hcmd || h_pid > 0 || now_ms() < h_next) return;
    pid_t p = fork();
    if (p == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(hcmd[0], hcmd);
        _exit(127);
    }
    if (p > 0) h_pid = p;
    else health_schedule();
}
static int outfd[2] = {-1, -1};  /* stdout, stderr (tty: outfd[0] only) */
static char *partial[2];
static size_t plen[2];
static int clients[MAXC];
static char *cbuf[MAXC];
static size_t clen[MAXC];

static void now_text(char *out, size_t n) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { struct pollfd q = {fd, POLLOUT, 0}; poll(&q, 1, 1000); continue; }
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* length of a valid UTF-8 sequence at p (0 if invalid) */
static int utf8_len(const unsigned char *p, size_t n) {
    if (p[0] < 0x80) return 1;
    int len = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || (size_t)len > n || (len == 2 && p[0] < 0xC2)) return 0;
    for (int i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return len;
}

/* json-file's rotation (moby's loggerutils): the full log is renamed to PATH.1 after the older ones moved up */
static void rotate(void) {
    close(logfd);
    size_t n = strlen(logp) + 24;
    char *from = malloc(n), *to = malloc(n);
    if (from && to && max_file > 1) {
        for (int i = max_file - 1; i >= 1; i--) {
            if (i == 1) snprintf(from, n, "%s", logp); else snprintf(from, n, "%s.%d", logp, i - 1);
            snprintf(to, n, "%s.%d", logp, i);
            rename(from, to);
        }
    }
    free(from);
    free(to);
    logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (max_file > 1 ? 0 : O_TRUNC), 0640);
    log_size = 0;
}

/* one json-file line for text[0:n] (a whole line with its newline, or a flushed remainder) */
static void log_line(int stream, const unsigned char *text, size_t n, const char *ts) {
    if (logfd < 0) return;
    size_t cap = n * 6 + 128, o = 0;
    char *out = malloc(cap);
    if (!out) return;
    o += (size_t)sprintf(out, "{\"log\":\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = text[i];
        if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; i++; }
        else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; i++; }
        else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; i++; }
        else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; i++; }
        else if (c < 0x20 || c == 0x7f) { o += (size_t)sprintf(out + o, "\\u%04x", c); i++; }
        else if (c < 0x80) { out[o++] = (char)c; i++; }
        else {
            int l = utf8_len(text + i, n - i);
            if (l == 0) { memcpy(out + o, "\xef\xbf\xbd", 3); o += 3; i++; }
            else { memcpy(out + o, text + i, (size_t)l); o += (size_t)l; i += (size_t)l; }
        }
    }
    o += (size_t)sprintf(out + o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream ? "stderr" : "stdout", ts);
    if (max_size > 0 && log_size >= max_size) rotate();  /* before the write, as moby's: the newest line stays */
    if (logfd >= 0) write_all(logfd, out, o);
    free(out);
    log_size += (long long)o;
}

static void log_data(int stream, const char *data, size_t n) {
    char ts[64];
    now_text(ts, sizeof ts);
    char *buf = realloc(partial[stream], plen[stream] + n);
    if (!buf) return;
    memcpy(buf + plen[stream], data, n);
    size_t len = plen[stream] + n, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            log_line(stream, (unsigned char *)buf + start, i + 1 - start, ts);
            start = i + 1;
        }
    }
    if (len - start >= 16384) {  /* Docker splits long lines at 16 KiB */
        log_line(stream, (unsigned char *)buf + start, len - start, ts);
        start = len;
    }
    memmove(buf, buf + start, len - start);
    partial[stream] = buf;
    plen[stream] = len - start;
}

static void frame(int kind, const char *data, size_t n, char *hdr) {
    hdr[0] = (char)kind; hdr[1] = hdr[2] = hdr[3] = 0;
    hdr[4] = (char)(n >> 24); hdr[5] = (char)(n >> 16); hdr[6] = (char)(n >> 8); hdr[7] = (char)n;
    (void)data;
}

static void drop_client(int i) {
    close(clients[i]);
    clients[i] = -1;
    free(cbuf[i]);
    cbuf[i] = NULL;
    clen[i] = 0;
}

static void emit(int stream, const char *data, size_t n) {
    log_data(stream, data, n);
    char hdr[8];
    frame(stream + 1, data, n, hdr);
    for (int i = 0; i < MAXC; i++) {
        if (clients[i] < 0) continue;
        write_all(clients[i], hdr, 8);
        write_all(clients[i], data, n);
    }
}

static void close_stdin(void) {
    if (stdin_fd >= 0 && stdin_fd != tty_fd) close(stdin_fd);
    stdin_fd = -1;
}

static void client_input(int i) {
    char tmp[BUF];
    ssize_t r = read(clients[i], tmp, sizeof tmp);
    if (r <= 0) { drop_client(i); return; }
    char *b = realloc(cbuf[i], clen[i] + (size_t)r);
    if (!b) return;
    memcpy(b + clen[i], tmp, (size_t)r);
    cbuf[i] = b;
    clen[i] += (size_t)r;
    size_t off = 0;
    while (clen[i] - off >= 8) {
        unsigned char *h = (unsigned char *)b + off;
        size_t n = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
        if (clen[i] - off < 8 + n) break;
        char *payload = b + off + 8;
        if (h[0] == 0 && stdin_fd >= 0) write_all(stdin_fd, payload, n);
        else if (h[0] == 2) close_stdin();
        else if (h[0] == 1 && tty_fd >= 0) {
            char s[32];
            size_t m = n < sizeof s - 1 ? n : sizeof s - 1;
            memcpy(s, payload, m); s[m] = 0;
            struct winsize ws = {0};
            if (sscanf(s, "%hu %hu", &ws.ws_row, &ws.ws_col) == 2) ioctl(tty_fd, TIOCSWINSZ, &ws);
        }
        off += 8 + n;
    }
    memmove(b, b + off, clen[i] - off);
    clen[i] -= off;
}

static void reap(void) {
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == cpid) status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        else if (p == h_pid) {
            h_pid = 0;
            h_starting = WIFEXITED(st) && WEXITSTATUS(st) == 3;
            health_schedule();
        }
    }
    if (p < 0 && errno == ECHILD && status < 0 && kill(cpid, 0) < 0 && errno == ESRCH) status = 255;
}

static int oom_killed(const char *cg) {
    if (!cg) return 0;
    const char *fmt[] = {"/sys/fs/cgroup/memory%s/memory.oom_control", "/sys/fs/cgroup/unified%s/memory.events",
                         "/sys/fs/cgroup%s/memory.events"};
    for (int k = 0; k < 3; k++) {
        char path[512], line[256];
        snprintf(path, sizeof path, fmt[k], cg);
        FILE *f = fopen(path, "re");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            long v;
            if (sscanf(line, "oom_kill %ld", &v) == 1 && v > 0) { fclose(f); return 1; }
        }
        fclose(f);
    }
    return 0;
}

static int bind_attach(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = path;
    if (slash) { *slash = 0; base = slash + 1; }
    int dfd = open(slash ? dir : ".", O_PATH | O_CLOEXEC);
    if (dfd < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, base);
    unlink(sa.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 8) < 0)) { close(s); s = -1; }
    close(dfd);
    return s;
}

static void add_client(int lst) {
    int c = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return;
    for (int i = 0; i < MAXC; i++)
        if (clients[i] < 0) { clients[i] = c; return; }
    close(c);
}

int main(int argc, char **argv) {
    const char *exitp = NULL, *attachp = NULL, *cgroup = NULL, *unlessp = NULL;
    int want_stdin = 0;
    double wait_attach = 0;
    char **cmd = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { cmd = argv + i + 1; break; }
        if (!strcmp(argv[i], "--health")) {
            hcmd = argv + i + 1;
            while (i + 1 < argc && strcmp(argv[i + 1], "--")) i++;
            if (i + 1 < argc) { argv[i + 1] = NULL; cmd = argv + i + 2; }
            break;
        }
        char *eq = strchr(argv[i], '=');
        if (!eq || eq - argv[i] > 15) continue;
        char k[16];
        memcpy(k, argv[i], (size_t)(eq - argv[i]));
        k[eq - argv[i]] = 0;
        const char *v = eq + 1;
        if (!strcmp(k, "pid")) cpid = atoi(v);
        else if (!strcmp(k, "log")) logp = v;
        else if (!strcmp(k, "exit")) exitp = v;
        else if (!strcmp(k, "attach")) attachp = v;
        else if (!strcmp(k, "cgroup")) cgroup = v;
        else if (!strcmp(k, "out")) outfd[0] = atoi(v);
        else if (!strcmp(k, "err")) outfd[1] = atoi(v);
        else if (!strcmp(k, "in")) stdin_fd = atoi(v);
        else if (!strcmp(k, "tty")) tty_fd = outfd[0] = atoi(v);
        else if (!strcmp(k, "stdin")) want_stdin = atoi(v);
        else if (!strcmp(k, "wait_attach")) wait_attach = atof(v);
        else if (!strcmp(k, "unless")) unlessp = v;
        else if (!strcmp(k, "max_size")) max_size = atoll(v);
        else if (!strcmp(k, "max_file")) max_file = atoi(v) > 0 ? atoi(v) : 1;
        else if (!strcmp(k, "health_interval")) h_interval = atoll(v);
        else if (!strcmp(k, "health_start_period")) h_start_period = atoll(v);
        else if (!strcmp(k, "health_start_interval")) h_start_interval = atoll(v);
    }
    if (hcmd && (!hcmd[0] || h_interval <= 0)) hcmd = NULL;
    h_started = now_ms();
    health_schedule();
    if (cpid <= 0 || !exitp) { fprintf(stderr, "skiff-monitor: pid= and exit= are required\n"); return 2; }
    if (tty_fd >= 0) stdin_fd = want_stdin ? tty_fd : -1;
    for (int i = 0; i < MAXC; i++) clients[i] = -1;
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (logp) logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (logfd >= 0) log_size = lseek(logfd, 0, SEEK_END);  /* a restarted container appends */
    for (int s = 0; s < 2; s++)
        if (outfd[s] >= 0) fcntl(outfd[s], F_SETFL, fcntl(outfd[s], F_GETFL) | O_NONBLOCK);
    int lst = attachp ? bind_attach(attachp) : -1;
    if (lst >= 0 && wait_attach > 0) {
        struct pollfd q = {lst, POLLIN, 0};
        if (poll(&q, 1, (int)(wait_attach * 1000)) > 0) add_client(lst);
    }
    reap();
    struct timespec deadline = {0, 0};
    char buf[BUF];
    for (;;) {
        if (status >= 0) {
            if (outfd[0] < 0 && outfd[1] < 0) break;
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (deadline.tv_sec == 0) deadline.tv_sec = t.tv_sec + 2, deadline.tv_nsec = t.tv_nsec;
            else if (t.tv_sec > deadline.tv_sec || (t.tv_sec == deadline.tv_sec && t.tv_nsec > deadline.tv_nsec))
                break;
        }
        struct pollfd p[4 + MAXC];
        int n = 0, idx_out[2] = {-1, -1}, idx_sig, idx_lst = -1, idx_c[MAXC];
        p[idx_sig = n++] = (struct pollfd){sfd, POLLIN, 0};
        for (int s = 0; s < 2; s++)
            if (outfd[s] >= 0) p[idx_out[s] = n++] = (struct pollfd){outfd[s], POLLIN, 0};
        if (lst >= 0) p[idx_lst = n++] = (struct pollfd){lst, POLLIN, 0};
        for (int i = 0; i < MAXC; i++) {
            idx_c[i] = -1;
            if (clients[i] >= 0) p[idx_c[i] = n++] = (struct pollfd){clients[i], POLLIN, 0};
        }
        int wait = status >= 0 ? 100 : 1000;
        if (hcmd && status < 0 && h_pid == 0) {
            long long left = h_next - now_ms();
            if (left < wait) wait = left < 0 ? 0 : (int)left;
        }
        int r = poll(p, (nfds_t)n, wait);
        if (r < 0 && errno != EINTR) break;
        if (p[idx_sig].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {}
        }
        reap();
        for (int s = 0; s < 2; s++) {
            if (idx_out[s] < 0 || !p[idx_out[s]].revents) continue;
            ssize_t got = read(outfd[s], buf, sizeof buf);
            if (got > 0) emit(s, buf, (size_t)got);
            else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                if (outfd[s] != tty_fd) close(outfd[s]);
                outfd[s] = -1;
            }
        }
        if (status < 0) health_probe();
        if (idx_lst >= 0 && p[idx_lst].revents) add_client(lst);
        for (int i = 0; i < MAXC; i++)
            if (idx_c[i] >= 0 && p[idx_c[i]].revents && clients[i] >= 0) client_input(i);
    }
    char ts[64];
    now_text(ts, sizeof ts);
    for (int s = 0; s < 2; s++)
        if (plen[s]) log_line(s, (unsigned char *)partial[s], plen[s], ts);
    if (status < 0) status = 255;
    int oom = oom_killed(cgroup);
    char code[16], hdr[8];
    int cl = snprintf(code, sizeof code, "%d", status);
    frame(3, code, (size_t)cl, hdr);
    for (int i = 0; i < MAXC; i++) {
        if (clients[i] < 0) continue;
        write_all(clients[i], hdr, 8);
        write_all(clients[i], code, (size_t)cl);
        drop_client(i);
    }
    if (lst >= 0) {
        close(lst);
        unlink(attachp);
    }
    char tmp[4200], text[256];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", exitp, (int)getpid());
    int tl = snprintf(text, sizeof text, "{\"ExitCode\":%d,\"OOMKilled\":%s,\"FinishedAt\":\"%s\",\"Pid\":%d}\n",
                      status, oom ? "true" : "false", ts, cpid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        write_all(fd, text, (size_t)tl);  /* no fsync: the runroot does not outlive a reboot (monitor.py) */
        close(fd);
        rename(tmp, exitp);
    }
    if (logfd >= 0) close(logfd);
    if (cmd && cmd[0] && !(unlessp && access(unlessp, F_OK) == 0)) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(cmd[0], cmd);
        return 127;
    }
    return 0;
}
