/* The dashboard page (src/web/page.html, embedded at build time). */
#ifndef MITSU_WEB_PAGE_H
#define MITSU_WEB_PAGE_H
extern const char web_page_html[];
#endif
