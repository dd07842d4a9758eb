using Microsoft.AspNetCore.Builder;

namespace PowerService.Api.Security;

/// <summary>Headers on every answer that tell a browser what the pages may do: load scripts, styles and connections
/// from this silo only (no inline script: a description that got past escaping still could not run), never be framed
/// by another site (a console clicked through an invisible frame), no content-type guessing, no referrer with an order
/// id in it leaving the silo.</summary>
internal static class SecurityHeaders
{
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers["Referrer-Policy"] = "no-referrer";
        return next(context);
    });
}
