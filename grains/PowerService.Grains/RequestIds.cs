namespace PowerService.Grains;

/// <summary>A request id, chosen by the sender per request (a UUID), makes a resend harmless: the grain remembers
/// "actor request-id" with the change the request made and answers the same request again with what it made.</summary>
internal static class RequestIds
{
    /// <summary>"actor request-id", or null when the request carries no id.</summary>
    public static string? Key(string actor, string? requestId)
    {
        if (requestId is null)
        {
            return null;
        }
        if (!PlainIds.IsValid(requestId))
        {
            throw new InvalidFieldException("requestId", "requestId is 1 to 64 letters, digits, '-' or '_' (a UUID, say).");
        }
        return actor + " " + requestId;
    }
}
