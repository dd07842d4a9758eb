using Microsoft.AspNetCore.Http;

namespace PowerService.Api.Errors;

/// <summary>A 403 that says why: the caller is signed in and may see the resource, but this change is someone
/// else's to make (a bare 403 from a role policy needs no words; one decided per resource does).</summary>
internal static class Forbidden
{
    public static IResult Because(string detail, string? field = null) => Results.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        detail: detail,
        extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });
}
