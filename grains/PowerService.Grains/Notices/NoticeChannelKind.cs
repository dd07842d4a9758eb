namespace PowerService.Grains.Notices;

/// <summary>How a customer wants outage notices: the <c>notice_channel</c> column of the customers file.</summary>
public enum NoticeChannelKind
{
    Sms,
    App,
    WeChat,
}

/// <summary>Channel names as the outbox stores them and adapters are registered by.</summary>
public static class NoticeChannelNames
{
    public const string Sms = "sms";
    public const string App = "app";
    public const string WeChat = "wechat";

    public static string Of(NoticeChannelKind kind) => kind switch
    {
        NoticeChannelKind.Sms => Sms,
        NoticeChannelKind.App => App,
        NoticeChannelKind.WeChat => WeChat,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a notice channel."),
    };

    public static bool IsKnown(string? name) => name is Sms or App or WeChat;
}
