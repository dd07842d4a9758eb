using System.Security.Cryptography;
using System.Text;

namespace PowerService.Api;

/// <summary>Ids the service gives what a request creates (an order, a planned outage) when the sender names none.</summary>
internal static class NewIds
{
    /// <summary>A fresh id: the prefix and 16 hex digits.</summary>
    public static string Random(string prefix) => prefix + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();

    /// <summary>The id of what one request creates, the same however often it is sent (its answer lost), in the form of
    /// <see cref="Random"/>: the resend reaches what the first send made.</summary>
    public static string For(string prefix, string actor, string requestId) =>
        prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(actor + " " + requestId)))[..16];
}
