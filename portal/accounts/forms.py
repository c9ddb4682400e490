from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.accounts.models import OrgKind, Role
from portal.core.forms import EditForm, IdField, choice_rules


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=128)])
    remember = BooleanField(_l("记住我"))


class SecondFactorForm(FlaskForm):
    code = StringField(_l("验证码"), validators=[DataRequired(_l("请输入验证码。")), Length(max=20)])


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。")), Length(max=128)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。")), Length(max=128)])


class UserForm(EditForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名。")), Length(max=60)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=60)])
    organisation_id = SelectField(_l("所属机构"), coerce=int, validators=[DataRequired(_l("请选择机构。"))])
    title = StringField(_l("职务"), validators=[Optional(), Length(max=60)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Email(_l("邮箱格式不正确。")), Length(max=200)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=40)])
    password = PasswordField(_l("初始密码"), validators=[Optional(), Length(max=128)])


class RolesForm(EditForm):
    """The security administrator's role assignment (三权分立: not the system administrator's)."""

    roles = SelectMultipleField(_l("角色"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles.choices = Role.choices()


class ActiveForm(FlaskForm):
    """停用 / 启用 a user: the state the button asks for ("1" active, "0" not)."""

    active = StringField(_l("账户状态"), validators=[DataRequired(_l("请选择账户状态。")),
                                                   *choice_rules(("0", "1"), _l("账户状态"))])


class ClearLimitForm(FlaskForm):
    """清除登录限制: one counter (its id), or every counter when none is given."""

    limit_id = IdField(_l("登录限制"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。")), Length(max=128)])


class OrganisationForm(EditForm):
    name = StringField(_l("机构全称"), validators=[DataRequired(_l("请填写机构名称。")), Length(max=200)])
    short_name = StringField(_l("简称"), validators=[Optional(), Length(max=60)])
    kind = SelectField(_l("机构类型"), choices=[], validators=[DataRequired()])
    code = StringField(_l("单位编码"), validators=[Optional(), Length(max=40)])
    parent_id = SelectField(_l("上级单位"), coerce=int, choices=[])
    contact_person = StringField(_l("联系人"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=40)])
    is_active = BooleanField(_l("启用"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = OrgKind.choices()
