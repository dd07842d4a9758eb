using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace PowerService.Api.Security;

/// <summary>A 403 from a role policy says which roles the endpoint takes and which the caller has, so that a page can
/// show "this needs the dispatcher role" rather than a bare Forbidden. Everything else is the default handling.</summary>
internal sealed class RoleForbiddenHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var needed = authorizeResult is { Forbidden: true, AuthorizationFailure: { } failure }
            ? failure.FailedRequirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct(StringComparer.Ordinal).ToList()
            : [];
        if (needed.Count == 0)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        if (policy.AuthenticationSchemes.Count == 0)
        {
            await context.ForbidAsync();
        }
        foreach (var scheme in policy.AuthenticationSchemes)
        {
            await context.ForbidAsync(scheme);
        }
        var held = context.User.Claims.Where(c => c.Type == context.User.Identities.First().RoleClaimType).Select(c => c.Value).ToList();
        var takes = needed.Count == 1 ? $"the {needed[0]} role" : $"one of the roles {string.Join(", ", needed)}";
        var signedIn = held.Count == 0 ? "" : $" (signed in as {string.Join(", ", held)})";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Forbidden", Detail = $"This needs {takes}{signedIn}." },
        });
    }
}
