/* fake_engine.c - a canned Docker Engine API on a temporary unix socket, for unit tests.
 * Not compiled by the tests/test_*.c glob: a test #includes this file. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake_route {
	const char *method;
	const char *path; /* without the query string */
	int status;
	const char *ctype;
	const char *body;
	size_t body_len; /* 0: strlen(body) */
};

struct fake_engine {
	char dir[64];
	char sock[100];
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	const struct fake_route *routes;
	pthread_mutex_t lock;
	char log[16384];      /* "METHOD target\n" per request */
	char last_body[4096]; /* body of the last request */
};

static void fake_log_append(struct fake_engine *f, const char *method, const char *target,
			    const char *body)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = strlen(f->log);
	snprintf(f->log + n, sizeof(f->log) - n, "%s %s\n", method, target);
	snprintf(f->last_body, sizeof(f->last_body), "%s", body);
	pthread_mutex_unlock(&f->lock);
}

static void fake_serve_one(struct fake_engine *f, int fd)
{
	char req[16384];
	size_t len = 0;
	char *hdr_end = NULL;
	char method[16];
	char target[4096];
	char path[4096];
	char head[512];
	const struct fake_route *r;
	const char *cl;
	size_t body_len = 0;
	const char *body;
	size_t out_len;
	ssize_t n;

	while (len < sizeof(req) - 1) {
		n = read(fd, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		hdr_end = strstr(req, "\r\n\r\n");
		if (!hdr_end)
			continue;
		cl = strcasestr(req, "\r\nContent-Length:");
		body_len = cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0;
		if (len >= (size_t)(hdr_end + 4 - req) + body_len)
			break;
	}
	if (!hdr_end || sscanf(req, "%15s %4095s", method, target) != 2)
		return;
	hdr_end[2] = '\0'; /* keep the headers apart from the body */
	body = hdr_end + 4;
	snprintf(path, sizeof(path), "%s", target);
	path[strcspn(path, "?")] = '\0';
	if (strncmp(path, "/v1.41", 6) == 0)
		memmove(path, path + 6, strlen(path + 6) + 1);
	fake_log_append(f, method, target, body);
	for (r = f->routes; r->method; r++)
		if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
			break;
	if (!r->method) {
		static const struct fake_route missing = {
		    "", "", 404, "application/json", "{\"message\":\"page not found\"}", 0};
		r = &missing;
	}
	out_len = r->body_len ? r->body_len : strlen(r->body);
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d Canned\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n",
		 r->status, r->ctype ? r->ctype : "application/json", out_len);
	/* MSG_NOSIGNAL, and no empty write: the client may close as soon as it has the head. */
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0)
		return;
	if (out_len > 0 && send(fd, r->body, out_len, MSG_NOSIGNAL) < 0)
		return;
}

static void *fake_thread(void *arg)
{
	struct fake_engine *f = arg;

	for (;;) {
		struct pollfd p[2] = {{f->listen_fd, POLLIN, 0}, {f->stop_pipe[0], POLLIN, 0}};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		fake_serve_one(f, fd);
		close(fd);
	}
	return NULL;
}

/* Creates the socket (in a fresh mkdtemp folder) and sets DOCKER_HOST to it. Call once per
 * TCase from an unchecked fixture, so that fake_engine_close runs even after a failed test. */
static int fake_engine_open(struct fake_engine *f, const struct fake_route *routes)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char host[160];

	memset(f, 0, sizeof(*f));
	f->listen_fd = -1;
	f->routes = routes;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pgc-fake-engine-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->sock);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(f->listen_fd, 16) < 0)
		return -1;
	snprintf(host, sizeof(host), "unix://%s", f->sock);
	setenv("DOCKER_HOST", host, 1);
	return 0;
}

static void fake_engine_close(struct fake_engine *f)
{
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	if (f->sock[0])
		unlink(f->sock);
	if (f->dir[0])
		rmdir(f->dir);
	unsetenv("DOCKER_HOST");
}

/* Starts answering in a thread of this process (a checked fixture: the test's own child). */
static int fake_engine_start(struct fake_engine *f)
{
	f->log[0] = '\0';
	f->last_body[0] = '\0';
	pthread_mutex_init(&f->lock, NULL);
	if (pipe(f->stop_pipe) < 0)
		return -1;
	if (pthread_create(&f->thread, NULL, fake_thread, f) != 0)
		return -1;
	return 0;
}

static void fake_engine_stop(struct fake_engine *f)
{
	if (write(f->stop_pipe[1], "x", 1) == 1)
		pthread_join(f->thread, NULL);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	pthread_mutex_destroy(&f->lock);
}

/* 1 when some logged request line contains s. */
static int fake_engine_saw(struct fake_engine *f, const char *s)
{
	int found;

	pthread_mutex_lock(&f->lock);
	found = strstr(f->log, s) != NULL;
	pthread_mutex_unlock(&f->lock);
	return found;
}
