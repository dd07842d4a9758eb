using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace PowerService.Api;

/// <summary>Every request body is limited: 1 MB unless the endpoint declares its own limit (CSV imports). A declared
/// length over the limit is refused at once with 413; a chunked body is cut off by the server when it passes it.</summary>
internal static class RequestSizeLimits
{
    public const long DefaultMaxBytes = 1L << 20;

    public static IApplicationBuilder UseRequestSizeLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? DefaultMaxBytes;
        if (context.Request.ContentLength > limit)
        {
            await Results.Problem(
                title: "Request too large",
                detail: $"The body is {context.Request.ContentLength} bytes; this endpoint takes at most {limit}.",
                statusCode: StatusCodes.Status413PayloadTooLarge).ExecuteAsync(context);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        await next(context);
    });
}
